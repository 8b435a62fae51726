package api

import (
	"context"
	"log/slog"
	"net/http"
	"time"

	"github.com/kabinet/kabinet/shared/domain"
	"github.com/kabinet/kabinet/shared/httpapi"
	"github.com/kabinet/kabinet/shared/publication"
)

// idempotencyLease is how long a request holds its Idempotency-Key before a
// crashed attempt's claim may be retaken: longer than the function's timeout.
const idempotencyLease = time.Minute

// PublicationRoutes serves PublicationFunction: the employer system, by API key.
func PublicationRoutes(log *slog.Logger, pub *publication.Publishing, dir *publication.Directory, keys httpapi.APIKeyVerifier, idem httpapi.IdempotencyStore) *httpapi.Router {
	r := httpapi.NewRouter(log)
	write := func(h httpapi.HandlerFunc) httpapi.HandlerFunc {
		return httpapi.EmployerSystem(keys, httpapi.Idempotent(idem, pub.Clock, idempotencyLease, h))
	}
	r.Handle("POST /v1/publication/delta", write(func(ctx context.Context, req *httpapi.Request) (httpapi.Response, error) {
		var b publication.Batch
		if err := httpapi.DecodeLimit(req, &b, publication.MaxBodyBytes); err != nil {
			return httpapi.Response{}, err
		}
		res, err := pub.Delta(ctx, req.Caller.OrganizationID, b, writeDeadline(ctx))
		if err != nil {
			return httpapi.Response{}, err
		}
		return httpapi.JSON(http.StatusOK, res)
	}))
	r.Handle("POST /v1/publication/snapshots", write(func(ctx context.Context, req *httpapi.Request) (httpapi.Response, error) {
		if err := httpapi.RequireNoBody(req); err != nil {
			return httpapi.Response{}, err
		}
		snap, err := pub.BeginSnapshot(ctx, req.Caller.OrganizationID)
		if err != nil {
			return httpapi.Response{}, err
		}
		return httpapi.JSON(http.StatusCreated, snap)
	}))
	r.Handle("POST /v1/publication/snapshots/{snapshotId}/chunks", write(func(ctx context.Context, req *httpapi.Request) (httpapi.Response, error) {
		var b publication.Batch
		if err := httpapi.DecodeLimit(req, &b, publication.MaxBodyBytes); err != nil {
			return httpapi.Response{}, err
		}
		res, err := pub.AddChunk(ctx, req.Caller.OrganizationID, req.Event.PathParameters["snapshotId"], b, writeDeadline(ctx))
		if err != nil {
			return httpapi.Response{}, err
		}
		return httpapi.JSON(http.StatusOK, res)
	}))
	r.Handle("POST /v1/publication/snapshots/{snapshotId}/commit", write(func(ctx context.Context, req *httpapi.Request) (httpapi.Response, error) {
		if err := httpapi.RequireNoBody(req); err != nil {
			return httpapi.Response{}, err
		}
		res, err := pub.Commit(ctx, req.Caller.OrganizationID, req.Event.PathParameters["snapshotId"])
		if err != nil {
			return httpapi.Response{}, err
		}
		return httpapi.JSON(http.StatusOK, res)
	}))
	r.Handle("GET /v1/publication/cannot-get-cabinet", httpapi.EmployerSystem(keys, func(ctx context.Context, req *httpapi.Request) (httpapi.Response, error) {
		return listEmployees(ctx, req, dir, true)
	}))
	return r
}

// EmployeesRoutes serves EmployeesFunction: the responsible person's view
// of the published employees.
func EmployeesRoutes(log *slog.Logger, pub *publication.Directory, tokens httpapi.TokenVerifier) *httpapi.Router {
	r := httpapi.NewRouter(log)
	auth := func(h httpapi.HandlerFunc) httpapi.HandlerFunc {
		return httpapi.Authenticated(tokens, httpapi.RequireRole(domain.RoleResponsiblePerson, h))
	}
	r.Handle("GET /v1/employees", auth(func(ctx context.Context, req *httpapi.Request) (httpapi.Response, error) {
		return listEmployees(ctx, req, pub, false)
	}))
	r.Handle("GET /v1/employees/{employeeId}", auth(func(ctx context.Context, req *httpapi.Request) (httpapi.Response, error) {
		e, err := pub.Employee(ctx, req.Caller.OrganizationID, req.Event.PathParameters["employeeId"])
		if err != nil {
			return httpapi.Response{}, err
		}
		return httpapi.JSON(http.StatusOK, e)
	}))
	return r
}

// listEmployees answers a page of published employees; onlyProblems fixes
// the "cannot get a cabinet" filter on.
func listEmployees(ctx context.Context, req *httpapi.Request, pub *publication.Directory, onlyProblems bool) (httpapi.Response, error) {
	var p domain.Problems
	q := req.Event.QueryStringParameters
	limit := httpapi.QueryInt(req, "limit", 50, 1, 200, &p)
	f := publication.ListFilter{CannotGetCabinet: onlyProblems}
	if d, ok := q["departmentId"]; ok {
		if _, err := publication.ParseExternalID(d); err != nil {
			p.Check("departmentId", err)
		}
		f.DepartmentID = d
	}
	if !onlyProblems {
		switch q["cannotGetCabinet"] {
		case "", "false":
		case "true":
			f.CannotGetCabinet = true
		default:
			p.Add("cannotGetCabinet", "boolean", `cannotGetCabinet must be "true" or "false"`)
		}
	}
	cursor := q["cursor"]
	if len(cursor) > 512 {
		p.Add("cursor", "cursor_invalid", "use a nextCursor value as given")
	}
	if err := p.Err(); err != nil {
		return httpapi.Response{}, err
	}
	page, err := pub.List(ctx, req.Caller.OrganizationID, f, limit, cursor)
	if err != nil {
		return httpapi.Response{}, err
	}
	return httpapi.JSON(http.StatusOK, page)
}

// writeDeadline leaves the function a few seconds to answer after writing.
func writeDeadline(ctx context.Context) time.Time {
	if d, ok := ctx.Deadline(); ok {
		return d.Add(-3 * time.Second)
	}
	return time.Now().Add(20 * time.Second)
}

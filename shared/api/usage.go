package api

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/kabinet/kabinet/shared/domain"
	"github.com/kabinet/kabinet/shared/httpapi"
	"github.com/kabinet/kabinet/shared/platform"
	"github.com/kabinet/kabinet/shared/usage"
)

// ServiceRoutes adds to AccountFunction the responsible person's view of
// the service period and the usage statistics setting. The organization
// comes from the access token alone; an operator token is no access token,
// so it never reaches these routes.
func ServiceRoutes(r *httpapi.Router, svc *usage.Service, tokens Verifier) {
	admin := func(h httpapi.HandlerFunc) httpapi.HandlerFunc {
		return httpapi.Authenticated(tokens, httpapi.RequireRole(domain.RoleResponsiblePerson, h))
	}
	r.Handle("GET /v1/organization/service", admin(func(ctx context.Context, req *httpapi.Request) (httpapi.Response, error) {
		out, err := svc.Of(ctx, req.Caller.OrganizationID)
		if err != nil {
			return httpapi.Response{}, err
		}
		return httpapi.JSON(http.StatusOK, out)
	}))
	r.Handle("PUT /v1/organization/usage-statistics", admin(httpapi.WithBody(http.StatusOK,
		func(ctx context.Context, req *httpapi.Request, in usage.StatisticsInput) (usage.ServiceView, error) {
			return svc.SetStatistics(ctx, req.Caller.OrganizationID, in)
		})))
}

// OperatorRoutes serves OperatorFunction: the deployment's operator lists
// organizations with their service period and statistics, and extends or
// activates a period. Only the operator token passes: an organization's
// access token or API key is refused with 401, as any other bearer.
func OperatorRoutes(log *slog.Logger, svc *usage.Service, token *usage.OperatorToken) *httpapi.Router {
	r := httpapi.NewRouter(log)
	op := func(h httpapi.HandlerFunc) httpapi.HandlerFunc {
		return func(ctx context.Context, req *httpapi.Request) (httpapi.Response, error) {
			scheme, t, ok := strings.Cut(req.Header("Authorization"), " ")
			if !ok || !strings.EqualFold(scheme, "Bearer") || !token.Valid(strings.TrimSpace(t)) {
				return httpapi.Response{}, domain.NewError(domain.CodeUnauthorized, "the operator token is required as a bearer token")
			}
			return h(platform.WithLogger(ctx, platform.Logger(ctx).With("operator", true)), req)
		}
	}
	page := func(req *httpapi.Request) (int, string, error) {
		var p domain.Problems
		limit := httpapi.QueryInt(req, "limit", 50, 1, 100, &p)
		cursor := req.Event.QueryStringParameters["cursor"]
		if len(cursor) > 512 {
			p.Add("cursor", "cursor_invalid", "use a nextCursor value as given")
		}
		return limit, cursor, p.Err()
	}
	r.Handle("GET /v1/operator/organizations", op(func(ctx context.Context, req *httpapi.Request) (httpapi.Response, error) {
		limit, cursor, err := page(req)
		if err != nil {
			return httpapi.Response{}, err
		}
		out, err := svc.List(ctx, limit, cursor)
		if err != nil {
			return httpapi.Response{}, err
		}
		return httpapi.JSON(http.StatusOK, out)
	}))
	r.Handle("GET /v1/operator/organizations/{organizationId}/statistics", op(func(ctx context.Context, req *httpapi.Request) (httpapi.Response, error) {
		limit, cursor, err := page(req)
		if err != nil {
			return httpapi.Response{}, err
		}
		id, err := orgIDParam(req)
		if err != nil {
			return httpapi.Response{}, err
		}
		out, err := svc.Statistics(ctx, id, limit, cursor)
		if err != nil {
			return httpapi.Response{}, err
		}
		return httpapi.JSON(http.StatusOK, out)
	}))
	r.Handle("POST /v1/operator/organizations/{organizationId}/service", op(httpapi.WithBody(http.StatusOK,
		func(ctx context.Context, req *httpapi.Request, in usage.ExtendInput) (usage.ServiceView, error) {
			id, err := orgIDParam(req)
			if err != nil {
				return usage.ServiceView{}, err
			}
			return svc.Extend(ctx, id, in)
		})))
	return r
}

// orgIDParam is the path's organization id: an id of any other form names
// no organization (404, as a missing one).
func orgIDParam(req *httpapi.Request) (string, error) {
	id := req.Event.PathParameters["organizationId"]
	if id == "" || len(id) > 64 || strings.ContainsAny(id, "#/ \x00") {
		return "", domain.ErrNotFound
	}
	return id, nil
}

// UsageJob is UsageJobFunction's handler: each scheduled event aggregates
// the day that ended for every organization that allows statistics.
func UsageJob(svc *usage.Service) func(ctx context.Context, event json.RawMessage) (usage.JobReport, error) {
	return func(ctx context.Context, _ json.RawMessage) (usage.JobReport, error) {
		deadline, ok := ctx.Deadline()
		if !ok {
			deadline = time.Now().Add(time.Minute)
		}
		rep, err := svc.RunJob(ctx, deadline.Add(-jobMargin))
		log := platform.Logger(ctx)
		if err != nil {
			log.Error("usage statistics job failed", "error", err.Error(), "day", rep.Day, "aggregated", rep.Aggregated)
			return rep, err
		}
		log.Info("usage statistics job done", "day", rep.Day, "aggregated", rep.Aggregated, "skipped", rep.Skipped)
		return rep, nil
	}
}

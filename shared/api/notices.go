package api

import (
	"context"
	"log/slog"
	"net/http"
	"time"

	"github.com/kabinet/kabinet/shared/domain"
	"github.com/kabinet/kabinet/shared/httpapi"
	"github.com/kabinet/kabinet/shared/notices"
	"github.com/kabinet/kabinet/shared/notify"
)

// NoticesRoutes serves NoticesFunction: the employer system announces
// notices by API key; the responsible person reads the notification list
// and sets the notification settings and templates.
func NoticesRoutes(log *slog.Logger, svc *notices.Service, keys httpapi.APIKeyVerifier, tokens httpapi.TokenVerifier,
	idem httpapi.IdempotencyStore) *httpapi.Router {
	r := httpapi.NewRouter(log)
	admin := func(h httpapi.HandlerFunc) httpapi.HandlerFunc {
		return httpapi.Authenticated(tokens, httpapi.RequireRole(domain.RoleResponsiblePerson, h))
	}
	r.Handle("POST /v1/notices", httpapi.EmployerSystem(keys, httpapi.Idempotent(idem, svc.Clock, idempotencyLease,
		func(ctx context.Context, req *httpapi.Request) (httpapi.Response, error) {
			var in notices.AnnounceInput
			if err := httpapi.DecodeLimit(req, &in, bulkBodyBytes); err != nil {
				return httpapi.Response{}, err
			}
			out, err := svc.Announce(ctx, req.Caller.OrganizationID, in, announceDeadline(ctx))
			if err != nil {
				return httpapi.Response{}, err
			}
			return httpapi.JSON(http.StatusOK, out)
		})))
	r.Handle("GET /v1/notifications", admin(func(ctx context.Context, req *httpapi.Request) (httpapi.Response, error) {
		var p domain.Problems
		q := req.Event.QueryStringParameters
		limit := httpapi.QueryInt(req, "limit", notices.DefaultListLimit, 1, notices.MaxListLimit, &p)
		f := notices.ParseListFilter(optQuery(q, "employeeId"), optQuery(q, "kind"), &p)
		if err := p.Err(); err != nil {
			return httpapi.Response{}, err
		}
		out, err := svc.List(ctx, req.Caller.OrganizationID, f, limit, q["cursor"])
		if err != nil {
			return httpapi.Response{}, err
		}
		return httpapi.JSON(http.StatusOK, out)
	}))
	r.Handle("GET /v1/organization/notification-settings", admin(func(ctx context.Context, req *httpapi.Request) (httpapi.Response, error) {
		out, err := svc.SettingsOf(ctx, req.Caller.OrganizationID)
		if err != nil {
			return httpapi.Response{}, err
		}
		return httpapi.JSON(http.StatusOK, out)
	}))
	r.Handle("PATCH /v1/organization/notification-settings", admin(httpapi.WithBody(http.StatusOK,
		func(ctx context.Context, req *httpapi.Request, in notices.SettingsInput) (notices.Settings, error) {
			return svc.UpdateSettings(ctx, req.Caller.OrganizationID, in)
		})))
	r.Handle("GET /v1/organization/notification-templates", admin(func(ctx context.Context, req *httpapi.Request) (httpapi.Response, error) {
		out, err := svc.Templates(ctx, req.Caller.OrganizationID)
		if err != nil {
			return httpapi.Response{}, err
		}
		return httpapi.JSON(http.StatusOK, out)
	}))
	r.Handle("PUT /v1/organization/notification-templates/{kind}", admin(func(ctx context.Context, req *httpapi.Request) (httpapi.Response, error) {
		// An unknown kind is 404 before the body is looked at.
		kind := req.Event.PathParameters["kind"]
		if _, err := notices.ParseKind(kind); err != nil {
			return httpapi.Response{}, err
		}
		var in notify.Template
		if err := httpapi.Decode(req, &in); err != nil {
			return httpapi.Response{}, err
		}
		out, err := svc.SetTemplate(ctx, req.Caller.OrganizationID, kind, in)
		if err != nil {
			return httpapi.Response{}, err
		}
		return httpapi.JSON(http.StatusOK, out)
	}))
	r.Handle("DELETE /v1/organization/notification-templates/{kind}", admin(func(ctx context.Context, req *httpapi.Request) (httpapi.Response, error) {
		out, err := svc.ResetTemplate(ctx, req.Caller.OrganizationID, req.Event.PathParameters["kind"])
		if err != nil {
			return httpapi.Response{}, err
		}
		return httpapi.JSON(http.StatusOK, out)
	}))
	return r
}

// optQuery is a query parameter, nil when absent.
func optQuery(q map[string]string, name string) *string {
	if v, ok := q[name]; ok {
		return &v
	}
	return nil
}

// announceDeadline is when an announcement to all employees stops reading
// further pages: a page (read, write, queue) must still fit before the
// function's deadline, with time left to answer.
func announceDeadline(ctx context.Context) time.Time {
	if d, ok := ctx.Deadline(); ok {
		return d.Add(-8 * time.Second)
	}
	return time.Now().Add(20 * time.Second)
}

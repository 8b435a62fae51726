package api

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/kabinet/kabinet/shared/cabinets"
	"github.com/kabinet/kabinet/shared/domain"
	"github.com/kabinet/kabinet/shared/httpapi"
	"github.com/kabinet/kabinet/shared/notify"
	"github.com/kabinet/kabinet/shared/platform"
)

// bulkBodyBytes fits 1,000 employee ids of the longest form (64 characters,
// up to 256 bytes each) with their quotes and commas.
const bulkBodyBytes = 300 << 10

// CabinetsRoutes serves CabinetsFunction: the responsible person's cabinet
// administration, cabinet settings and КЭДО settings.
func CabinetsRoutes(log *slog.Logger, svc *cabinets.Administration, edo *cabinets.EDO, tokens Verifier, idem httpapi.IdempotencyStore) *httpapi.Router {
	r := httpapi.NewRouter(log)
	admin := func(h httpapi.HandlerFunc) httpapi.HandlerFunc {
		return httpapi.Authenticated(tokens, httpapi.RequireRole(domain.RoleResponsiblePerson, h))
	}
	r.Handle("GET /v1/cabinets", admin(func(ctx context.Context, req *httpapi.Request) (httpapi.Response, error) {
		var p domain.Problems
		q := req.Event.QueryStringParameters
		limit := httpapi.QueryInt(req, "limit", 50, 1, 200, &p)
		var f cabinets.ListFilter
		if v, ok := q["state"]; ok {
			st, ok := cabinets.ParseState(v)
			if !ok {
				p.Add("state", "unknown_state", "state must be one of not_created, created, invitation_sent, active, error, disabled")
			}
			f.State = st
		}
		if v, ok := q["name"]; ok {
			if !utf8.ValidString(v) || utf8.RuneCountInString(v) > 100 || strings.ContainsAny(v, "#\x00") {
				p.Add("name", "name_format", "name is a prefix of up to 100 characters")
			}
			f.Name = v
		}
		cursor := q["cursor"]
		if len(cursor) > 1024 {
			p.Add("cursor", "cursor_invalid", "use a nextCursor value as given")
		}
		if err := p.Err(); err != nil {
			return httpapi.Response{}, err
		}
		out, err := svc.List(ctx, req.Caller.OrganizationID, f, limit, cursor)
		if err != nil {
			return httpapi.Response{}, err
		}
		return httpapi.JSON(http.StatusOK, out)
	}))
	r.Handle("GET /v1/cabinets/counts", admin(func(ctx context.Context, req *httpapi.Request) (httpapi.Response, error) {
		out, err := svc.Count(ctx, req.Caller.OrganizationID)
		if err != nil {
			return httpapi.Response{}, err
		}
		return httpapi.JSON(http.StatusOK, out)
	}))
	r.Handle("POST /v1/cabinets/actions", admin(httpapi.Idempotent(idem, svc.Clock, idempotencyLease,
		func(ctx context.Context, req *httpapi.Request) (httpapi.Response, error) {
			var in cabinets.BulkInput
			if err := httpapi.DecodeLimit(req, &in, bulkBodyBytes); err != nil {
				return httpapi.Response{}, err
			}
			out, err := svc.Bulk(ctx, req.Caller.OrganizationID, in)
			if err != nil {
				return httpapi.Response{}, err
			}
			return httpapi.JSON(http.StatusOK, out)
		})))
	r.Handle("GET /v1/organization/cabinet-settings", admin(func(ctx context.Context, req *httpapi.Request) (httpapi.Response, error) {
		out, err := svc.SettingsOf(ctx, req.Caller.OrganizationID)
		if err != nil {
			return httpapi.Response{}, err
		}
		return httpapi.JSON(http.StatusOK, out)
	}))
	r.Handle("PATCH /v1/organization/cabinet-settings", admin(httpapi.WithBody(http.StatusOK,
		func(ctx context.Context, req *httpapi.Request, in cabinets.SettingsInput) (cabinets.Settings, error) {
			return svc.UpdateSettings(ctx, req.Caller.OrganizationID, in)
		})))
	edoSettingsRoutes(r, edo, admin)
	return r
}

// activationRoutes adds the employee's activation by invitation to
// AuthFunction's routes: public, the invitation token is the credential.
func activationRoutes(r *httpapi.Router, svc *cabinets.Activations) {
	r.Handle("POST /v1/invitations/open", httpapi.WithBody(http.StatusOK,
		func(ctx context.Context, _ *httpapi.Request, in cabinets.TokenInput) (cabinets.InvitationView, error) {
			return svc.OpenInvitation(ctx, in)
		}))
	r.Handle("POST /v1/invitations/codes", httpapi.WithBody(http.StatusAccepted,
		func(ctx context.Context, req *httpapi.Request, in cabinets.ActivationCodeInput) (cabinets.CodeSent, error) {
			return svc.SendActivationCode(ctx, in, sourceIP(req))
		}))
	r.Handle("POST /v1/invitations/activate", httpapi.WithBody(http.StatusOK,
		func(ctx context.Context, _ *httpapi.Request, in cabinets.ActivateInput) (cabinets.Activated, error) {
			return svc.Activate(ctx, in)
		}))
}

// jobMargin is kept from the function's deadline to finish the page at hand.
const jobMargin = 15 * time.Second

// InvitationJob is InvitationJobFunction's handler: each scheduled event
// runs the due invitation work until done or near the function's deadline.
func InvitationJob(svc *cabinets.InvitationJob) func(ctx context.Context, event json.RawMessage) (cabinets.JobReport, error) {
	return func(ctx context.Context, _ json.RawMessage) (cabinets.JobReport, error) {
		deadline, ok := ctx.Deadline()
		if !ok {
			deadline = time.Now().Add(time.Minute)
		}
		rep, err := svc.RunJob(ctx, deadline.Add(-jobMargin))
		log := platform.Logger(ctx)
		if err != nil {
			log.Error("invitation job failed", "error", err.Error(), "read", rep.Read, "invited", rep.Invited)
			return rep, err
		}
		log.Info("invitation job done", "read", rep.Read, "invited", rep.Invited, "reminded", rep.Reminded,
			"expired", rep.Expired, "cleared", rep.Cleared, "lost", rep.Lost)
		return rep, nil
	}
}

// OutboxJob is OutboxFunction's handler: each scheduled event drains the
// notifications outbox until done or near the function's deadline.
func OutboxJob(o *notify.Outbox) func(ctx context.Context, event json.RawMessage) (notify.DrainReport, error) {
	return func(ctx context.Context, _ json.RawMessage) (notify.DrainReport, error) {
		deadline, ok := ctx.Deadline()
		if !ok {
			deadline = time.Now().Add(30 * time.Second)
		}
		rep, err := o.Drain(ctx, deadline.Add(-10*time.Second))
		log := platform.Logger(ctx)
		if err != nil {
			log.Error("outbox drain failed", "error", err.Error(), "queued", rep.Queued)
			return rep, err
		}
		if rep.Queued+rep.Failed > 0 {
			log.Info("outbox drained", "queued", rep.Queued, "failed", rep.Failed)
		}
		return rep, nil
	}
}

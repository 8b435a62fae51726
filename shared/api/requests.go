package api

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"log/slog"
	"net/http"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/kabinet/kabinet/shared/domain"
	"github.com/kabinet/kabinet/shared/httpapi"
	"github.com/kabinet/kabinet/shared/platform"
	"github.com/kabinet/kabinet/shared/requests"
)

// Paging of the request lists.
const (
	requestsDefaultLimit = 20
	requestsMaxLimit     = 100
)

// actorFunc handles a route for a signed-in person acting on requests.
type actorFunc func(ctx context.Context, req *httpapi.Request, a requests.Actor) (httpapi.Response, error)

// RequestsRoutes serves RequestsFunction: employees file requests and
// follow them; approvers (and their deputies) decide them; processors carry
// them out; managers and the responsible person name deputies; the
// responsible person decides what nobody else can and sets the request
// settings. Every route takes a person's bearer token; the caller's account
// is read on each call, so a disabled employee acts no more.
func RequestsRoutes(log *slog.Logger, svc *requests.Requests, tokens Verifier, idem httpapi.IdempotencyStore) *httpapi.Router {
	r := httpapi.NewRouter(log)
	// asActor reads the authenticated caller's account as an actor: an
	// employee or the responsible person.
	asActor := func(h actorFunc) httpapi.HandlerFunc {
		return func(ctx context.Context, req *httpapi.Request) (httpapi.Response, error) {
			c := req.Caller
			if c.Role != domain.RoleEmployee && c.Role != domain.RoleResponsiblePerson {
				return httpapi.Response{}, domain.NewError(domain.CodeForbidden, "this route is for employees and the organization's responsible person")
			}
			a, err := svc.ActorOf(ctx, c.OrganizationID, c.PersonID, c.Role)
			if err != nil {
				return httpapi.Response{}, err
			}
			return h(ctx, req, a)
		}
	}
	act := func(h actorFunc) httpapi.HandlerFunc { return httpapi.Authenticated(tokens, asActor(h)) }
	only := func(role domain.Role, h actorFunc) httpapi.HandlerFunc {
		return httpapi.Authenticated(tokens, httpapi.RequireRole(role, asActor(h)))
	}
	// onRequest: a route on one request, its id checked first.
	onRequest := func(h func(ctx context.Context, req *httpapi.Request, a requests.Actor, id string) (httpapi.Response, error)) httpapi.HandlerFunc {
		return act(func(ctx context.Context, req *httpapi.Request, a requests.Actor) (httpapi.Response, error) {
			id, err := pathID(req, "requestId")
			if err != nil {
				return httpapi.Response{}, err
			}
			return h(ctx, req, a, id)
		})
	}
	view := func(v requests.View, err error) (httpapi.Response, error) {
		if err != nil {
			return httpapi.Response{}, err
		}
		return httpapi.JSON(http.StatusOK, v)
	}

	r.Handle("GET /v1/request-types", act(func(ctx context.Context, req *httpapi.Request, a requests.Actor) (httpapi.Response, error) {
		items, err := svc.TypesFor(ctx, a.OrganizationID)
		if err != nil {
			return httpapi.Response{}, err
		}
		return httpapi.JSON(http.StatusOK, map[string]any{"items": items})
	}))

	// Filing a request is retry-safe with an Idempotency-Key: a retried
	// submission files nothing twice. The account is checked first, so a
	// disabled employee replays nothing.
	r.Handle("POST /v1/requests", only(domain.RoleEmployee, func(ctx context.Context, req *httpapi.Request, a requests.Actor) (httpapi.Response, error) {
		return httpapi.Idempotent(idem, svc.Clock, idempotencyLease, func(ctx context.Context, req *httpapi.Request) (httpapi.Response, error) {
			var in requests.SubmitInput
			if err := httpapi.Decode(req, &in); err != nil {
				return httpapi.Response{}, err
			}
			out, err := svc.Submit(ctx, a, in)
			if err != nil {
				return httpapi.Response{}, err
			}
			return httpapi.JSON(http.StatusCreated, out)
		})(ctx, req)
	}))
	r.Handle("GET /v1/requests", only(domain.RoleEmployee, func(ctx context.Context, req *httpapi.Request, a requests.Actor) (httpapi.Response, error) {
		limit, cursor, err := pageQuery(req)
		if err != nil {
			return httpapi.Response{}, err
		}
		out, err := svc.Mine(ctx, a, limit, cursor)
		if err != nil {
			return httpapi.Response{}, err
		}
		return httpapi.JSON(http.StatusOK, out)
	}))
	r.Handle("GET /v1/requests/{requestId}", onRequest(func(ctx context.Context, req *httpapi.Request, a requests.Actor, id string) (httpapi.Response, error) {
		out, err := svc.Get(ctx, a, id)
		if err != nil {
			return httpapi.Response{}, err
		}
		return httpapi.JSON(http.StatusOK, out)
	}))
	r.Handle("POST /v1/requests/{requestId}/cancel", onRequest(func(ctx context.Context, req *httpapi.Request, a requests.Actor, id string) (httpapi.Response, error) {
		var in struct{}
		if err := decodeOptional(req, &in); err != nil {
			return httpapi.Response{}, err
		}
		return view(svc.Cancel(ctx, a, id))
	}))
	// Each decision and processing step takes only its own text: a comment
	// where one may be given, a reason where one is needed; anything else in
	// the body is refused rather than ignored.
	r.Handle("POST /v1/requests/{requestId}/approve", onRequest(func(ctx context.Context, req *httpapi.Request, a requests.Actor, id string) (httpapi.Response, error) {
		var in commentBody
		if err := decodeOptional(req, &in); err != nil {
			return httpapi.Response{}, err
		}
		return view(svc.Decide(ctx, a, id, true, requests.DecisionInput{Comment: in.Comment}))
	}))
	r.Handle("POST /v1/requests/{requestId}/reject", onRequest(func(ctx context.Context, req *httpapi.Request, a requests.Actor, id string) (httpapi.Response, error) {
		var in reasonBody
		if err := httpapi.Decode(req, &in); err != nil {
			return httpapi.Response{}, err
		}
		return view(svc.Decide(ctx, a, id, false, requests.DecisionInput{Reason: in.Reason}))
	}))
	for _, step := range []struct {
		name   string
		act    requests.Action
		reason bool
	}{{"take", requests.ActTake, false}, {"complete", requests.ActComplete, false}, {"decline", requests.ActDecline, true}} {
		r.Handle("POST /v1/requests/{requestId}/"+step.name, onRequest(func(ctx context.Context, req *httpapi.Request, a requests.Actor, id string) (httpapi.Response, error) {
			var in requests.ProcessInput
			if step.reason {
				var b reasonBody
				if err := httpapi.Decode(req, &b); err != nil {
					return httpapi.Response{}, err
				}
				in.Reason = b.Reason
			} else {
				var b commentBody
				if err := decodeOptional(req, &b); err != nil {
					return httpapi.Response{}, err
				}
				in.Comment = b.Comment
			}
			return view(svc.Process(ctx, a, id, step.act, in))
		}))
	}

	r.Handle("GET /v1/approvals", act(func(ctx context.Context, req *httpapi.Request, a requests.Actor) (httpapi.Response, error) {
		limit, cursor, err := pageQuery(req)
		if err != nil {
			return httpapi.Response{}, err
		}
		out, err := svc.Approvals(ctx, a, limit, cursor)
		if err != nil {
			return httpapi.Response{}, err
		}
		return httpapi.JSON(http.StatusOK, out)
	}))
	r.Handle("GET /v1/processing", act(func(ctx context.Context, req *httpapi.Request, a requests.Actor) (httpapi.Response, error) {
		limit, cursor, err := pageQuery(req)
		if err != nil {
			return httpapi.Response{}, err
		}
		out, err := svc.Processing(ctx, a, limit, cursor)
		if err != nil {
			return httpapi.Response{}, err
		}
		return httpapi.JSON(http.StatusOK, out)
	}))

	onManager := func(h func(ctx context.Context, req *httpapi.Request, a requests.Actor, managerID string) (httpapi.Response, error)) httpapi.HandlerFunc {
		return act(func(ctx context.Context, req *httpapi.Request, a requests.Actor) (httpapi.Response, error) {
			id, err := pathID(req, "managerId")
			if err != nil {
				return httpapi.Response{}, err
			}
			return h(ctx, req, a, id)
		})
	}
	r.Handle("GET /v1/deputies/{managerId}", onManager(func(ctx context.Context, req *httpapi.Request, a requests.Actor, managerID string) (httpapi.Response, error) {
		out, err := svc.DeputyOf(ctx, a, managerID)
		if err != nil {
			return httpapi.Response{}, err
		}
		return httpapi.JSON(http.StatusOK, out)
	}))
	r.Handle("PUT /v1/deputies/{managerId}", onManager(func(ctx context.Context, req *httpapi.Request, a requests.Actor, managerID string) (httpapi.Response, error) {
		var in requests.DeputyInput
		if err := httpapi.Decode(req, &in); err != nil {
			return httpapi.Response{}, err
		}
		out, err := svc.SetDeputy(ctx, a, managerID, in)
		if err != nil {
			return httpapi.Response{}, err
		}
		return httpapi.JSON(http.StatusOK, out)
	}))
	r.Handle("DELETE /v1/deputies/{managerId}", onManager(func(ctx context.Context, req *httpapi.Request, a requests.Actor, managerID string) (httpapi.Response, error) {
		if err := svc.RemoveDeputy(ctx, a, managerID); err != nil {
			return httpapi.Response{}, err
		}
		return httpapi.NoContent()
	}))

	r.Handle("GET /v1/organization/request-settings", only(domain.RoleResponsiblePerson, func(ctx context.Context, req *httpapi.Request, a requests.Actor) (httpapi.Response, error) {
		out, err := svc.SettingsOf(ctx, a.OrganizationID)
		if err != nil {
			return httpapi.Response{}, err
		}
		return httpapi.JSON(http.StatusOK, out)
	}))
	r.Handle("PATCH /v1/organization/request-settings", only(domain.RoleResponsiblePerson, func(ctx context.Context, req *httpapi.Request, a requests.Actor) (httpapi.Response, error) {
		in, err := decodeSettingsPatch(req)
		if err != nil {
			return httpapi.Response{}, err
		}
		out, err := svc.UpdateSettings(ctx, a.OrganizationID, in)
		if err != nil {
			return httpapi.Response{}, err
		}
		return httpapi.JSON(http.StatusOK, out)
	}))
	return r
}

// commentBody is the body of a step that takes an optional comment.
type commentBody struct {
	Comment string `json:"comment"`
}

// reasonBody is the body of a refusal, whose reason is required.
type reasonBody struct {
	Reason string `json:"reason"`
}

// settingsPatch is requests.SettingsInput with a type's setting read whole:
// both switches are required, so that switching a type off cannot switch
// its approval off unseen.
type settingsPatch struct {
	Types map[string]*struct {
		Enabled       *bool `json:"enabled"`
		NeedsApproval *bool `json:"needsApproval"`
	} `json:"types"`
	Processing         map[string]*requests.Rule `json:"processing"`
	RemindAfterHours   *int                      `json:"remindAfterHours"`
	EscalateAfterHours *int                      `json:"escalateAfterHours"`
}

func decodeSettingsPatch(req *httpapi.Request) (requests.SettingsInput, error) {
	var b settingsPatch
	if err := httpapi.Decode(req, &b); err != nil {
		return requests.SettingsInput{}, err
	}
	in := requests.SettingsInput{Processing: b.Processing, RemindAfterHours: b.RemindAfterHours, EscalateAfterHours: b.EscalateAfterHours}
	var p domain.Problems
	if b.Types != nil {
		in.Types = make(map[string]requests.TypeSetting, len(b.Types))
	}
	for name, ts := range b.Types {
		if ts == nil || ts.Enabled == nil || ts.NeedsApproval == nil {
			p.Add("types."+name, "required", "a type's setting is given whole: enabled and needsApproval, true or false")
			continue
		}
		in.Types[name] = requests.TypeSetting{Enabled: *ts.Enabled, NeedsApproval: *ts.NeedsApproval}
	}
	return in, p.Err()
}

// decodeOptional decodes a body that may be left out: an empty body is an
// empty object; anything else is decoded strictly.
func decodeOptional(req *httpapi.Request, v any) error {
	raw := req.Event.Body
	if req.Event.IsBase64Encoded {
		if b, err := base64.StdEncoding.DecodeString(raw); err == nil {
			raw = string(b)
		}
	}
	if strings.TrimSpace(raw) == "" {
		return nil
	}
	return httpapi.Decode(req, v)
}

// pageQuery reads limit (1–100, default 20) and cursor (one a page gave),
// answering the id the cursor stands for.
func pageQuery(req *httpapi.Request) (limit int, after string, err error) {
	var p domain.Problems
	limit = httpapi.QueryInt(req, "limit", requestsDefaultLimit, 1, requestsMaxLimit, &p)
	after, ok := requests.DecodeCursor(req.Event.QueryStringParameters["cursor"])
	if !ok {
		p.Add("cursor", "cursor_invalid", "use a nextCursor value as given")
	}
	return limit, after, p.Err()
}

// pathID is a path parameter naming an object: 1 to 64 printable
// characters. Anything else cannot name one: 404, like an unknown id.
func pathID(req *httpapi.Request, name string) (string, error) {
	id := req.Event.PathParameters[name]
	if id == "" || len(id) > 256 || !utf8.ValidString(id) || utf8.RuneCountInString(id) > 64 {
		return "", domain.ErrNotFound
	}
	for _, r := range id {
		if !unicode.IsPrint(r) {
			return "", domain.ErrNotFound
		}
	}
	return id, nil
}

// RequestJob is RequestJobFunction's handler: each scheduled event reminds
// and escalates the due approvals until done or near the function's deadline.
func RequestJob(svc *requests.Escalation) func(ctx context.Context, event json.RawMessage) (requests.JobReport, error) {
	return func(ctx context.Context, _ json.RawMessage) (requests.JobReport, error) {
		deadline, ok := ctx.Deadline()
		if !ok {
			deadline = time.Now().Add(time.Minute)
		}
		rep, err := svc.RunJob(ctx, deadline.Add(-jobMargin))
		log := platform.Logger(ctx)
		if err != nil {
			log.Error("request job failed", "error", err.Error(), "read", rep.Read, "reminded", rep.Reminded, "escalated", rep.Escalated)
			return rep, err
		}
		log.Info("request job done", "read", rep.Read, "reminded", rep.Reminded, "escalated", rep.Escalated,
			"cleared", rep.Cleared, "lost", rep.Lost)
		return rep, nil
	}
}

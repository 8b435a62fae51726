// Package api binds the onboarding use cases to the HTTP API routes of
// template.yaml, one constructor per Lambda function.
package api

import (
	"context"
	"log/slog"
	"net/http"

	"github.com/kabinet/kabinet/shared/cabinets"
	"github.com/kabinet/kabinet/shared/domain"
	"github.com/kabinet/kabinet/shared/httpapi"
	"github.com/kabinet/kabinet/shared/onboarding"
	"github.com/kabinet/kabinet/shared/platform"
	"github.com/kabinet/kabinet/shared/publication"
	"github.com/kabinet/kabinet/shared/security"
)

// ConnectRoutes serves ConnectFunction.
func ConnectRoutes(log *slog.Logger, svc *onboarding.Connection) *httpapi.Router {
	r := httpapi.NewRouter(log)
	r.Handle("POST /v1/organizations", httpapi.WithBody(http.StatusCreated,
		func(ctx context.Context, req *httpapi.Request, in onboarding.ConnectInput) (onboarding.Connected, error) {
			return svc.Connect(ctx, in, sourceIP(req))
		}))
	return r
}

// AuthRoutes serves AuthFunction: codes, password setup, sign-in, refresh,
// and the employee's activation by invitation.
func AuthRoutes(log *slog.Logger, svc *onboarding.Credentials, cab *cabinets.Activations) *httpapi.Router {
	r := httpapi.NewRouter(log)
	activationRoutes(r, cab)
	r.Handle("POST /v1/auth/codes", httpapi.WithBody(http.StatusAccepted,
		func(ctx context.Context, req *httpapi.Request, in onboarding.SendCodeInput) (onboarding.CodeSent, error) {
			return svc.SendCode(ctx, in, sourceIP(req))
		}))
	r.Handle("POST /v1/auth/codes/verify", httpapi.WithBody(http.StatusOK,
		func(ctx context.Context, _ *httpapi.Request, in onboarding.VerifyCodeInput) (onboarding.CodeVerified, error) {
			return svc.VerifyCode(ctx, in)
		}))
	r.Handle("POST /v1/auth/password", httpapi.WithBodyNoContent(
		func(ctx context.Context, req *httpapi.Request, in onboarding.SetPasswordInput) error {
			return svc.SetPassword(ctx, in)
		}))
	r.Handle("POST /v1/auth/sessions", httpapi.WithBody(http.StatusOK,
		func(ctx context.Context, req *httpapi.Request, in onboarding.SignInInput) (onboarding.Session, error) {
			return svc.SignInFrom(ctx, in, client(req))
		}))
	r.Handle("POST /v1/auth/sessions/refresh", httpapi.WithBody(http.StatusOK,
		func(ctx context.Context, req *httpapi.Request, in onboarding.RefreshInput) (onboarding.Session, error) {
			return svc.RefreshFrom(ctx, in, client(req))
		}))
	r.Handle("POST /v1/auth/sessions/revoke", httpapi.WithBodyNoContent(
		func(ctx context.Context, req *httpapi.Request, in onboarding.SignOutInput) error {
			return svc.SignOut(ctx, in)
		}))
	r.Handle("POST /v1/auth/password-reset", httpapi.WithBody(http.StatusAccepted,
		func(ctx context.Context, req *httpapi.Request, in onboarding.ForgotPasswordInput) (onboarding.CodeSent, error) {
			return svc.ForgotPassword(ctx, in, sourceIP(req))
		}))
	r.Handle("POST /v1/auth/password-reset/confirm", httpapi.WithBodyNoContent(
		func(ctx context.Context, req *httpapi.Request, in onboarding.ResetPasswordInput) error {
			return svc.ResetPassword(ctx, in, sourceIP(req))
		}))
	return r
}

// AccountRoutes serves AccountFunction: who am I, and API keys. Every route
// needs a bearer token, and the organization comes from it alone; the API
// keys are the responsible person's alone.
func AccountRoutes(log *slog.Logger, svc *onboarding.Account, cab *cabinets.Preferences, dir *publication.Directory, tokens Verifier) *httpapi.Router {
	r := httpapi.NewRouter(log)
	auth := func(h httpapi.HandlerFunc) httpapi.HandlerFunc {
		return httpapi.Authenticated(tokens, h)
	}
	admin := func(h httpapi.HandlerFunc) httpapi.HandlerFunc {
		return auth(httpapi.RequireRole(domain.RoleResponsiblePerson, h))
	}
	r.Handle("GET /v1/me", auth(func(ctx context.Context, req *httpapi.Request) (httpapi.Response, error) {
		out, err := svc.WhoAmI(ctx, req.Caller.OrganizationID, req.Caller.PersonID)
		if err != nil {
			return httpapi.Response{}, err
		}
		if out.EmployeeID != "" {
			c, err := cab.Cabinet(ctx, req.Caller.OrganizationID, out.EmployeeID)
			if err != nil {
				return httpapi.Response{}, err
			}
			out.Cabinet = c
			consent, err := consentOf(ctx, dir, req.Caller.OrganizationID, out.EmployeeID)
			if err != nil {
				return httpapi.Response{}, err
			}
			return httpapi.JSON(http.StatusOK, employeeMe{Me: out, Consent: consent})
		}
		return httpapi.JSON(http.StatusOK, out)
	}))
	employee := func(h httpapi.HandlerFunc) httpapi.HandlerFunc {
		return auth(httpapi.RequireRole(domain.RoleEmployee, h))
	}
	r.Handle("PUT /v1/me/notification-preferences", employee(func(ctx context.Context, req *httpapi.Request) (httpapi.Response, error) {
		var in cabinets.ChannelPreference
		if err := httpapi.Decode(req, &in); err != nil {
			return httpapi.Response{}, err
		}
		me, err := svc.WhoAmI(ctx, req.Caller.OrganizationID, req.Caller.PersonID)
		if err != nil {
			return httpapi.Response{}, err
		}
		out, err := cab.SetPreferredChannel(ctx, req.Caller.OrganizationID, me.EmployeeID, in)
		if err != nil {
			return httpapi.Response{}, err
		}
		return httpapi.JSON(http.StatusOK, out)
	}))
	sessionRoutes(r, svc, auth)
	r.Handle("GET /v1/organization/api-keys", admin(func(ctx context.Context, req *httpapi.Request) (httpapi.Response, error) {
		var p domain.Problems
		limit := httpapi.QueryInt(req, "limit", 20, 1, 100, &p)
		cursor := req.Event.QueryStringParameters["cursor"]
		if len(cursor) > 512 {
			p.Add("cursor", "cursor_invalid", "use a nextCursor value as given")
		}
		if err := p.Err(); err != nil {
			return httpapi.Response{}, err
		}
		out, err := svc.ListAPIKeys(ctx, req.Caller.OrganizationID, limit, cursor)
		if err != nil {
			return httpapi.Response{}, err
		}
		return httpapi.JSON(http.StatusOK, out)
	}))
	r.Handle("POST /v1/organization/api-keys", admin(func(ctx context.Context, req *httpapi.Request) (httpapi.Response, error) {
		out, err := svc.CreateAPIKey(ctx, req.Caller.OrganizationID)
		if err != nil {
			return httpapi.Response{}, err
		}
		return httpapi.JSON(http.StatusCreated, out)
	}))
	r.Handle("DELETE /v1/organization/api-keys/{keyId}", admin(func(ctx context.Context, req *httpapi.Request) (httpapi.Response, error) {
		if err := svc.RevokeAPIKey(ctx, req.Caller.OrganizationID, req.Event.PathParameters["keyId"]); err != nil {
			return httpapi.Response{}, err
		}
		return httpapi.NoContent()
	}))
	return r
}

// sessionRoutes are the signed-in person's password and sessions, for
// every role that signs in (employees and the responsible person alike):
// each route acts on the caller's own account, named by the token alone.
func sessionRoutes(r *httpapi.Router, svc *onboarding.Account, auth func(httpapi.HandlerFunc) httpapi.HandlerFunc) {
	r.Handle("POST /v1/me/password", auth(func(ctx context.Context, req *httpapi.Request) (httpapi.Response, error) {
		var in onboarding.ChangePasswordInput
		if err := httpapi.Decode(req, &in); err != nil {
			return httpapi.Response{}, err
		}
		out, err := svc.ChangePassword(ctx, req.Caller.OrganizationID, req.Caller.PersonID, in, client(req))
		if err != nil {
			return httpapi.Response{}, err
		}
		return httpapi.JSON(http.StatusOK, out)
	}))
	r.Handle("GET /v1/me/sessions", auth(func(ctx context.Context, req *httpapi.Request) (httpapi.Response, error) {
		var p domain.Problems
		limit := httpapi.QueryInt(req, "limit", 20, 1, 100, &p)
		cursor := req.Event.QueryStringParameters["cursor"]
		if len(cursor) > 512 {
			p.Add("cursor", "cursor_invalid", "use a nextCursor value as given")
		}
		if err := p.Err(); err != nil {
			return httpapi.Response{}, err
		}
		out, err := svc.Sessions(ctx, req.Caller.OrganizationID, req.Caller.PersonID, req.Caller.SessionID, limit, cursor)
		if err != nil {
			return httpapi.Response{}, err
		}
		return httpapi.JSON(http.StatusOK, out)
	}))
	r.Handle("DELETE /v1/me/sessions/{sessionId}", auth(func(ctx context.Context, req *httpapi.Request) (httpapi.Response, error) {
		if err := svc.EndSession(ctx, req.Caller.OrganizationID, req.Caller.PersonID, req.Event.PathParameters["sessionId"]); err != nil {
			return httpapi.Response{}, err
		}
		return httpapi.NoContent()
	}))
	r.Handle("POST /v1/me/sessions/end-others", auth(func(ctx context.Context, req *httpapi.Request) (httpapi.Response, error) {
		out, err := svc.EndOtherSessions(ctx, req.Caller.OrganizationID, req.Caller.PersonID, req.Caller.SessionID)
		if err != nil {
			return httpapi.Response{}, err
		}
		return httpapi.JSON(http.StatusOK, out)
	}))
}

// client is where the request came from, as a session records it.
func client(req *httpapi.Request) onboarding.Client {
	return onboarding.Client{IP: sourceIP(req), UserAgent: req.Header("User-Agent")}
}

// Verifier checks access tokens against the service's clock.
type Verifier struct {
	Tokens *security.AccessTokens
	Clock  platform.Clock
}

// Verify implements httpapi.TokenVerifier.
func (v Verifier) Verify(token string) (security.Claims, error) {
	return v.Tokens.Verify(token, v.Clock.Now())
}

// sourceIP is the caller's address as API Gateway saw the TCP connection;
// X-Forwarded-For is the client's to write and is never trusted.
func sourceIP(req *httpapi.Request) string {
	return req.Event.RequestContext.HTTP.SourceIP
}

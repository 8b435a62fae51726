package httpapi

import (
	"context"
	"strings"

	"github.com/kabinet/kabinet/shared/domain"
	"github.com/kabinet/kabinet/shared/platform"
	"github.com/kabinet/kabinet/shared/security"
)

// Caller is who a bearer token says is calling. The organization (tenant)
// is taken from here only, never from the body, path or other headers.
type Caller struct {
	PersonID       string // empty for the employer system
	OrganizationID string
	Role           domain.Role
	APIKeyID       string // set for the employer system
	SessionID      string // the sign-in the access token belongs to, when it says
}

// TokenVerifier checks an access token.
type TokenVerifier interface {
	Verify(token string) (security.Claims, error)
}

// Authenticated wraps h so that it runs only for a valid bearer token; a
// missing, malformed, tampered or expired token is a 401.
func Authenticated(v TokenVerifier, h HandlerFunc) HandlerFunc {
	return func(ctx context.Context, r *Request) (Response, error) {
		auth := r.Header("Authorization")
		scheme, token, ok := strings.Cut(auth, " ")
		if !ok || !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(token) == "" {
			return Response{}, domain.NewError(domain.CodeUnauthorized, "a bearer access token is required")
		}
		claims, err := v.Verify(strings.TrimSpace(token))
		if err != nil {
			return Response{}, domain.NewError(domain.CodeUnauthorized, "the access token is invalid or expired")
		}
		r.Caller = &Caller{PersonID: claims.PersonID, OrganizationID: claims.OrganizationID, Role: domain.Role(claims.Role),
			SessionID: claims.SessionID}
		ctx = platform.WithLogger(ctx, platform.Logger(ctx).With("tenant", claims.OrganizationID, "person", claims.PersonID))
		return h(ctx, r)
	}
}

// APIKeyVerifier checks an employer-system API key and names its organization.
type APIKeyVerifier interface {
	VerifyAPIKey(ctx context.Context, key string) (orgID, keyID string, err error)
}

// EmployerSystem wraps h so that it runs only for a valid organization API
// key sent as a bearer token; anything else is a 401.
func EmployerSystem(v APIKeyVerifier, h HandlerFunc) HandlerFunc {
	return func(ctx context.Context, r *Request) (Response, error) {
		scheme, key, ok := strings.Cut(r.Header("Authorization"), " ")
		if !ok || !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(key) == "" {
			return Response{}, domain.NewError(domain.CodeUnauthorized, "the organization's API key is required as a bearer token")
		}
		orgID, keyID, err := v.VerifyAPIKey(ctx, strings.TrimSpace(key))
		if err != nil {
			return Response{}, err
		}
		r.Caller = &Caller{OrganizationID: orgID, Role: domain.RoleEmployerSystem, APIKeyID: keyID}
		ctx = platform.WithLogger(ctx, platform.Logger(ctx).With("tenant", orgID, "apiKey", keyID))
		return h(ctx, r)
	}
}

// RequireRole lets only callers of role through; others get 403.
func RequireRole(role domain.Role, h HandlerFunc) HandlerFunc {
	return func(ctx context.Context, r *Request) (Response, error) {
		if r.Caller == nil || r.Caller.Role != role {
			who := "the organization's responsible person"
			if role == domain.RoleEmployee {
				who = "employees with an active cabinet"
			}
			return Response{}, domain.NewError(domain.CodeForbidden, "this route is for "+who)
		}
		return h(ctx, r)
	}
}

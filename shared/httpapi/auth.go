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
	PersonID       string
	OrganizationID string
	Role           domain.Role
}

// TokenVerifier checks an access token.
type TokenVerifier interface {
	Verify(token string) (security.Claims, error)
}

// Authenticated wraps h so that it runs only for a valid bearer token; a
// missing, malformed, tampered or expired token is a 401.
func Authenticated(v TokenVerifier, h HandlerFunc) HandlerFunc {
	return func(ctx context.Context, r *Request) (Response, error) {
		auth := r.Event.Headers["authorization"]
		scheme, token, ok := strings.Cut(auth, " ")
		if !ok || !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(token) == "" {
			return Response{}, domain.NewError(domain.CodeUnauthorized, "a bearer access token is required")
		}
		claims, err := v.Verify(strings.TrimSpace(token))
		if err != nil {
			return Response{}, domain.NewError(domain.CodeUnauthorized, "the access token is invalid or expired")
		}
		r.Caller = &Caller{PersonID: claims.PersonID, OrganizationID: claims.OrganizationID, Role: domain.Role(claims.Role)}
		ctx = platform.WithLogger(ctx, platform.Logger(ctx).With("tenant", claims.OrganizationID, "person", claims.PersonID))
		return h(ctx, r)
	}
}

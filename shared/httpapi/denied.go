package httpapi

import (
	"log/slog"
	"net/http"
	"sort"

	"github.com/kabinet/kabinet/shared/domain"
)

// logDenied records every refusal answered 403, at one place for every
// route: who tried (person, organization, role, API key), what (the route
// and path), on which object (the path parameters) and why (the code and
// the reason). The access log line alone names neither the person nor the
// object. A 403 replayed from an idempotency key is logged too: it is
// another attempt. Nothing from the body is logged.
func logDenied(log *slog.Logger, r *Request, status int, err error) {
	code, reason := domain.ErrorCode(""), ""
	if derr, ok := domain.AsError(err); ok {
		status, code, reason = StatusOf(derr.Code), derr.Code, derr.Detail
	} else if err != nil {
		return
	}
	if status != http.StatusForbidden {
		return
	}
	if err == nil {
		reason = "replayed from an earlier request with the same Idempotency-Key"
	}
	attrs := []any{"route", r.Event.RouteKey, "path", r.Event.RawPath, "code", string(code), "reason", reason}
	if c := r.Caller; c != nil {
		attrs = append(attrs, "person", c.PersonID, "organization", c.OrganizationID, "role", string(c.Role))
		if c.APIKeyID != "" {
			attrs = append(attrs, "apiKey", c.APIKeyID)
		}
	}
	if len(r.Event.PathParameters) > 0 {
		names := make([]string, 0, len(r.Event.PathParameters))
		for n := range r.Event.PathParameters {
			names = append(names, n)
		}
		sort.Strings(names)
		object := make([]any, 0, len(names))
		for _, n := range names {
			object = append(object, slog.String(n, r.Event.PathParameters[n]))
		}
		attrs = append(attrs, slog.Group("object", object...))
	}
	log.Warn("access denied", attrs...)
}

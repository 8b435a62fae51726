package api

import (
	"context"
	"errors"
	"net/http"

	"github.com/kabinet/kabinet/shared/cabinets"
	"github.com/kabinet/kabinet/shared/domain"
	"github.com/kabinet/kabinet/shared/httpapi"
	"github.com/kabinet/kabinet/shared/onboarding"
	"github.com/kabinet/kabinet/shared/publication"
)

// edoSettingsRoutes adds the КЭДО settings to CabinetsFunction's routes:
// the responsible person's alone (admin checks the token and the role),
// of the organization the token names.
func edoSettingsRoutes(r *httpapi.Router, svc *cabinets.EDO, admin func(httpapi.HandlerFunc) httpapi.HandlerFunc) {
	r.Handle("GET /v1/organization/edo-settings", admin(func(ctx context.Context, req *httpapi.Request) (httpapi.Response, error) {
		out, err := svc.Settings(ctx, req.Caller.OrganizationID)
		if err != nil {
			return httpapi.Response{}, err
		}
		return httpapi.JSON(http.StatusOK, out)
	}))
	r.Handle("PATCH /v1/organization/edo-settings", admin(httpapi.WithBody(http.StatusOK,
		func(ctx context.Context, req *httpapi.Request, in cabinets.EDOSettingsInput) (cabinets.EDOSettingsView, error) {
			return svc.UpdateSettings(ctx, req.Caller.OrganizationID, in)
		})))
}

// employeeMe is GET /v1/me for an employee: who they are, with their
// consent to electronic interaction as the accounting system published it
// (absent: not published).
type employeeMe struct {
	onboarding.Me
	Consent *domain.Consent `json:"consent,omitempty"`
}

// consentOf reads the employee's published consent: nil when none was
// published, or when the employee record is gone.
func consentOf(ctx context.Context, dir *publication.Directory, orgID, employeeID string) (*domain.Consent, error) {
	e, err := dir.Employee(ctx, orgID, employeeID)
	if errors.Is(err, domain.ErrNotFound) {
		return nil, nil
	}
	if err != nil || e.Consent.IsZero() {
		return nil, err
	}
	return &e.Consent, nil
}

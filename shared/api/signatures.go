package api

import (
	"context"
	"log/slog"
	"net/http"

	"github.com/kabinet/kabinet/shared/domain"
	"github.com/kabinet/kabinet/shared/httpapi"
	"github.com/kabinet/kabinet/shared/signatures"
)

// SignaturesRoutes serves SignaturesFunction: the employee's own
// signature, the responsible person's view of an employee's signature
// events, and the deployment's CA certificate and CRL, public without a
// token (anyone verifying a signature needs them).
func SignaturesRoutes(log *slog.Logger, svc *signatures.Service, tokens Verifier) *httpapi.Router {
	r := httpapi.NewRouter(log)
	employee := func(h httpapi.HandlerFunc) httpapi.HandlerFunc {
		return httpapi.Authenticated(tokens, httpapi.RequireRole(domain.RoleEmployee, h))
	}
	admin := func(h httpapi.HandlerFunc) httpapi.HandlerFunc {
		return httpapi.Authenticated(tokens, httpapi.RequireRole(domain.RoleResponsiblePerson, h))
	}
	caller := func(req *httpapi.Request) signatures.Caller {
		return signatures.Caller{OrganizationID: req.Caller.OrganizationID, PersonID: req.Caller.PersonID, IP: sourceIP(req),
			UserAgent: req.Header("User-Agent")}
	}
	r.Handle("POST /v1/me/signature/codes", employee(func(ctx context.Context, req *httpapi.Request) (httpapi.Response, error) {
		out, err := svc.SendCode(ctx, caller(req))
		if err != nil {
			return httpapi.Response{}, err
		}
		return httpapi.JSON(http.StatusAccepted, out)
	}))
	r.Handle("POST /v1/me/signature", employee(httpapi.WithBody(http.StatusCreated,
		func(ctx context.Context, req *httpapi.Request, in signatures.EnrollInput) (signatures.Profile, error) {
			return svc.Create(ctx, caller(req), in)
		})))
	r.Handle("POST /v1/me/signature/renew", employee(httpapi.WithBody(http.StatusOK,
		func(ctx context.Context, req *httpapi.Request, in signatures.EnrollInput) (signatures.Profile, error) {
			return svc.Renew(ctx, caller(req), in)
		})))
	r.Handle("GET /v1/me/signature", employee(func(ctx context.Context, req *httpapi.Request) (httpapi.Response, error) {
		out, err := svc.Profile(ctx, caller(req))
		if err != nil {
			return httpapi.Response{}, err
		}
		return httpapi.JSON(http.StatusOK, out)
	}))
	r.Handle("POST /v1/me/signature/sign", employee(func(ctx context.Context, req *httpapi.Request) (httpapi.Response, error) {
		var in signatures.SignInput
		if err := httpapi.DecodeLimit(req, &in, signatures.MaxSignBodyBytes); err != nil {
			return httpapi.Response{}, err
		}
		out, err := svc.Sign(ctx, caller(req), in)
		if err != nil {
			return httpapi.Response{}, err
		}
		return httpapi.JSON(http.StatusOK, out)
	}))
	r.Handle("GET /v1/me/signature/events", employee(func(ctx context.Context, req *httpapi.Request) (httpapi.Response, error) {
		limit, cursor, err := page(req)
		if err != nil {
			return httpapi.Response{}, err
		}
		out, err := svc.MyEvents(ctx, caller(req), limit, cursor)
		if err != nil {
			return httpapi.Response{}, err
		}
		return httpapi.JSON(http.StatusOK, out)
	}))
	r.Handle("GET /v1/employees/{employeeId}/signature-events", admin(func(ctx context.Context, req *httpapi.Request) (httpapi.Response, error) {
		limit, cursor, err := page(req)
		if err != nil {
			return httpapi.Response{}, err
		}
		out, err := svc.EmployeeEvents(ctx, req.Caller.OrganizationID, req.Event.PathParameters["employeeId"], limit, cursor)
		if err != nil {
			return httpapi.Response{}, err
		}
		return httpapi.JSON(http.StatusOK, out)
	}))
	// The PKI: DER, as RFC 2585 serves certificates and CRLs over HTTP.
	// Cached briefly: the certificate never changes, a CRL within its
	// validity only by new revocations.
	r.Handle("GET /v1/pki/ca.crt", func(ctx context.Context, _ *httpapi.Request) (httpapi.Response, error) {
		der, err := svc.CACertificate(ctx)
		if err != nil {
			return httpapi.Response{}, err
		}
		return httpapi.Response{Status: http.StatusOK, Raw: der, Binary: true,
			Headers: map[string]string{"content-type": "application/pkix-cert", "cache-control": "public, max-age=86400"}}, nil
	})
	r.Handle("GET /v1/pki/crl", func(ctx context.Context, _ *httpapi.Request) (httpapi.Response, error) {
		der, err := svc.CRL(ctx)
		if err != nil {
			return httpapi.Response{}, err
		}
		return httpapi.Response{Status: http.StatusOK, Raw: der, Binary: true,
			Headers: map[string]string{"content-type": "application/pkix-crl", "cache-control": "public, max-age=300"}}, nil
	})
	return r
}

// page reads the limit and cursor of a list.
func page(req *httpapi.Request) (int, string, error) {
	var p domain.Problems
	limit := httpapi.QueryInt(req, "limit", 20, 1, 100, &p)
	cursor := req.Event.QueryStringParameters["cursor"]
	if len(cursor) > 512 {
		p.Add("cursor", "cursor_invalid", "use a nextCursor value as given")
	}
	return limit, cursor, p.Err()
}

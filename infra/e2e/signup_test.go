// Package e2e drives the system as a person would with curl: the local
// runner (the real bootstrap binaries behind the HTTP API built from
// template.yaml, moto, the SQS consumer) and the local outbox, through the
// client generated from infra/openapi.yaml.
package e2e

import (
	"fmt"
	"testing"

	openapi_types "github.com/oapi-codegen/runtime/types"

	"github.com/kabinet/kabinet/infra/e2e/apiclient"
)

func connectBody(phone string) apiclient.ConnectOrganizationRequest {
	var b apiclient.ConnectOrganizationRequest
	b.Name, b.Inn, b.Kpp = "ООО «Ромашка»", "7707083893", ptr("773601001")
	b.ResponsiblePerson.FullName, b.ResponsiblePerson.Phone = "Иванова Мария Петровна", phone
	b.ResponsiblePerson.Email = openapi_types.Email("maria." + phone[len(phone)-4:] + "@romashka.ru")
	b.Director.FullName, b.Director.Position = "Петров Пётр Петрович", "Генеральный директор"
	return b
}

func TestSignUpAsAPersonWould(t *testing.T) {
	c := startRunner(t)
	ctx, api := c.ctx, c.api

	// Connect; the phone is given as people write it and comes back in E.164.
	org := c.connect(connectBody("8 (916) 700-12-34"))
	orgID, phone := org.Organization.Id, org.ResponsiblePerson.Phone
	if phone != "+79167001234" {
		t.Fatalf("phone %q", phone)
	}

	// The code travels through SQS and the notifier to the outbox.
	sendCode := apiclient.SendCodeRequest{OrganizationId: orgID, Channel: "sms"}
	if r := must(api.SendCodeWithResponse(ctx, sendCode)); r.StatusCode() != 202 {
		t.Fatalf("send code: %d %s", r.StatusCode(), r.Body)
	}
	code := c.codeFor(phone, 0)
	// A resend inside 60 s is refused with Retry-After.
	resend := must(api.SendCodeWithResponse(ctx, sendCode))
	c.problem("resend", 429, "rate_limited", "")(resend)
	if retry := val(resend.Headers429).RetryAfter; retry < 1 || retry > 60 {
		t.Fatalf("resend: Retry-After %q", resend.HTTPResponse.Header.Get("Retry-After"))
	}

	verified := must(api.VerifyCodeWithResponse(ctx, apiclient.VerifyCodeRequest{OrganizationId: orgID, Code: code}))
	if verified.StatusCode() != 200 {
		t.Fatalf("verify: %d %s", verified.StatusCode(), verified.Body)
	}
	setup := verified.JSON200.SetupToken
	c.problem("common password", 400, "password_rejected", "")(
		must(api.SetPasswordWithResponse(ctx, apiclient.SetPasswordRequest{SetupToken: setup, Password: "12345678"})))
	if r := must(api.SetPasswordWithResponse(ctx, apiclient.SetPasswordRequest{SetupToken: setup, Password: "лето в деревне 2026"})); r.StatusCode() != 204 {
		t.Fatalf("set password: %d %s", r.StatusCode(), r.Body)
	}
	token := c.signIn("+7 916 700-12-34", "лето в деревне 2026")
	me := must(api.GetMeWithResponse(ctx, bearer(token)))
	if me.StatusCode() != 200 || me.JSON200.UserId == "" || me.JSON200.Organization.Id != orgID {
		t.Fatalf("me: %d %s", me.StatusCode(), me.Body)
	}
	if r := must(api.GetMeWithResponse(ctx)); r.StatusCode() != 401 {
		t.Fatalf("me without a token: %d", r.StatusCode())
	}
	if r := must(api.GetMeWithResponse(ctx, bearer(token[:len(token)-2]+"xx"))); r.StatusCode() != 401 {
		t.Fatalf("me with a tampered token: %d", r.StatusCode())
	}

	// Another organization: five wrong codes kill the code, and the right one
	// fails after them.
	org2ID := c.connect(connectBody("+7 916 700-56-78")).Organization.Id
	c.want(must(api.SendCodeWithResponse(ctx, apiclient.SendCodeRequest{OrganizationId: org2ID, Channel: "sms"})), 202, "send code 2")
	right := c.codeFor("+79167005678", 0)
	wrong := fmt.Sprintf("%06d", (mustAtoi(t, right)+1)%1000000)
	for i := 0; i < 5; i++ {
		c.problem(fmt.Sprintf("wrong code %d", i+1), 400, "code_invalid", "")(
			must(api.VerifyCodeWithResponse(ctx, apiclient.VerifyCodeRequest{OrganizationId: org2ID, Code: wrong})))
	}
	c.problem("right code after 5 wrong ones", 400, "code_expired", "")(
		must(api.VerifyCodeWithResponse(ctx, apiclient.VerifyCodeRequest{OrganizationId: org2ID, Code: right})))
	// Unmatched routes answer like API Gateway does (the spec has no such
	// route, so the generated client cannot call it).
	if status, _ := c.local("GET", "/v1/nothing-here", nil, nil); status != 404 {
		t.Fatalf("unknown route: %d", status)
	}
}

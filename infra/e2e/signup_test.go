// Package e2e drives the system as a person would with curl: the local
// runner (the real bootstrap binaries behind the HTTP API built from
// template.yaml, moto, the SQS consumer) and the local outbox.
package e2e

import (
	"fmt"
	"strconv"
	"testing"
)

func connectBody(phone string) map[string]any {
	return map[string]any{
		"name": "ООО «Ромашка»", "inn": "7707083893", "kpp": "773601001",
		"responsiblePerson": map[string]any{"fullName": "Иванова Мария Петровна", "phone": phone, "email": "maria." + phone[len(phone)-4:] + "@romashka.ru"},
		"director":          map[string]any{"fullName": "Петров Пётр Петрович", "position": "Генеральный директор"},
	}
}

func TestSignUpAsAPersonWould(t *testing.T) {
	c := startRunner(t)

	// Connect; the phone is given as people write it and comes back in E.164.
	status, _, org := c.do("POST", "/v1/organizations", "", connectBody("8 (916) 700-12-34"))
	if status != 201 {
		t.Fatalf("connect: %d %v", status, org)
	}
	orgID := org["organization"].(map[string]any)["id"].(string)
	phone := org["responsiblePerson"].(map[string]any)["phone"].(string)
	if phone != "+79167001234" {
		t.Fatalf("phone %q", phone)
	}

	// The code travels through SQS and the notifier to the outbox.
	if status, _, out := c.do("POST", "/v1/auth/codes", "", map[string]any{"organizationId": orgID, "channel": "sms"}); status != 202 {
		t.Fatalf("send code: %d %v", status, out)
	}
	code := c.codeFor(phone, 0)
	// A resend inside 60 s is refused with Retry-After.
	status, hdr, out := c.do("POST", "/v1/auth/codes", "", map[string]any{"organizationId": orgID, "channel": "sms"})
	if retry, _ := strconv.Atoi(hdr.Get("Retry-After")); status != 429 || out["code"] != "rate_limited" || retry < 1 || retry > 60 {
		t.Fatalf("resend: %d %v Retry-After %q", status, out, hdr.Get("Retry-After"))
	}

	status, _, verified := c.do("POST", "/v1/auth/codes/verify", "", map[string]any{"organizationId": orgID, "code": code})
	if status != 200 {
		t.Fatalf("verify: %d %v", status, verified)
	}
	setup := verified["setupToken"].(string)
	if status, _, out := c.do("POST", "/v1/auth/password", "", map[string]any{"setupToken": setup, "password": "12345678"}); status != 400 || out["code"] != "password_rejected" {
		t.Fatalf("common password: %d %v", status, out)
	}
	if status, _, out := c.do("POST", "/v1/auth/password", "", map[string]any{"setupToken": setup, "password": "лето в деревне 2026"}); status != 204 {
		t.Fatalf("set password: %d %v", status, out)
	}
	status, _, session := c.do("POST", "/v1/auth/sessions", "", map[string]any{"login": "+7 916 700-12-34", "password": "лето в деревне 2026"})
	if status != 200 {
		t.Fatalf("sign in: %d %v", status, session)
	}
	token := session["accessToken"].(string)
	status, _, me := c.do("GET", "/v1/me", token, nil)
	if status != 200 || me["userId"] == nil || me["organization"].(map[string]any)["id"] != orgID {
		t.Fatalf("me: %d %v", status, me)
	}
	if status, _, _ := c.do("GET", "/v1/me", "", nil); status != 401 {
		t.Fatalf("me without a token: %d", status)
	}
	if status, _, _ := c.do("GET", "/v1/me", token[:len(token)-2]+"xx", nil); status != 401 {
		t.Fatalf("me with a tampered token: %d", status)
	}

	// Another organization: five wrong codes kill the code, and the right one
	// fails after them.
	_, _, org2 := c.do("POST", "/v1/organizations", "", connectBody("+7 916 700-56-78"))
	org2ID := org2["organization"].(map[string]any)["id"].(string)
	c.do("POST", "/v1/auth/codes", "", map[string]any{"organizationId": org2ID, "channel": "sms"})
	right := c.codeFor("+79167005678", 0)
	wrong := fmt.Sprintf("%06d", (mustAtoi(t, right)+1)%1000000)
	for i := 0; i < 5; i++ {
		if status, _, out := c.do("POST", "/v1/auth/codes/verify", "", map[string]any{"organizationId": org2ID, "code": wrong}); status != 400 || out["code"] != "code_invalid" {
			t.Fatalf("wrong code %d: %d %v", i+1, status, out)
		}
	}
	if status, _, out := c.do("POST", "/v1/auth/codes/verify", "", map[string]any{"organizationId": org2ID, "code": right}); status != 400 || out["code"] != "code_expired" {
		t.Fatalf("right code after 5 wrong ones: %d %v", status, out)
	}
	// Unmatched routes answer like API Gateway does.
	if status, _, _ := c.do("GET", "/v1/nothing-here", "", nil); status != 404 {
		t.Fatalf("unknown route: %d", status)
	}
}

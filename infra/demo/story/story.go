// Package story plays the README's walkthrough against a running local
// runner (make run), through the API client generated from
// infra/openapi.yaml, so that it stays in step with the spec: an
// organization connects, its responsible person confirms the code and sets a
// password, the employer system publishes a department with its head and an
// employee, both are invited, activate their cabinets with the codes they
// receive and sign in, the employee submits a vacation request, the head
// approves it, and the notifications are listed. Codes and invitation links
// are read from the runner's outbox (GET /_local/outbox), never guessed, so
// a run spends none of a code's five attempts.
package story

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"regexp"
	"strings"
	"time"

	openapi_types "github.com/oapi-codegen/runtime/types"

	"github.com/kabinet/kabinet/infra/e2e/apiclient"
	"github.com/kabinet/kabinet/infra/localrun/runner"
)

// Options configure Play.
type Options struct {
	// Base is the runner's address, e.g. http://127.0.0.1:3000.
	Base string
	// Out receives one plain line per step.
	Out io.Writer
	// Patience bounds each wait for a message in the outbox (default 2 min:
	// a loaded machine is slow; it never decides what the story finds).
	Patience time.Duration
	// HTTP sends the requests (default http.DefaultClient).
	HTTP *http.Client
}

// Result is what a run made, for a test to check against the system.
type Result struct {
	OrganizationID string
	AdminPhone     string
	EmployeePhone  string
	HeadPhone      string
	RequestID      string
	// RequestState is the request's state after the head's approval.
	RequestState string
	// EmployeeSMS are the texts the employee received, in order.
	EmployeeSMS []string
	// Notifications are the organization's notifications, as listed.
	Notifications []apiclient.Notification
}

// The passwords of the story: long phrases pass the password policy.
const (
	adminPassword    = "лето в деревне 2026"
	employeePassword = "зелёный чайник на окне"
	headPassword     = "синий трамвай едет к морю"
)

var (
	sixDigits = regexp.MustCompile(`\b\d{6}\b`)
	// The invitation link: <PublicBaseURL>/activate#<token>.
	invitationToken = regexp.MustCompile(`/activate#([A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+)`)
)

type player struct {
	Options
	ctx  context.Context
	api  *apiclient.ClientWithResponses
	run  string // makes idempotency keys and names unique per run
	step int
	// seen is the outbox position before the story began: only later
	// messages are the story's.
	seen int
	// read counts the SMS to each phone the story has taken already.
	read map[string]int
}

// Play runs the whole story once and says what happened on Out. Every run
// uses new phone numbers, so it can be played again and again against one
// runner (with make run's raised limits; the deployed ones allow about three
// runs an hour from one address).
func Play(ctx context.Context, o Options) (*Result, error) {
	if o.Out == nil {
		o.Out = io.Discard
	}
	if o.Patience <= 0 {
		o.Patience = 2 * time.Minute
	}
	if o.HTTP == nil {
		o.HTTP = http.DefaultClient
	}
	o.Base = strings.TrimRight(o.Base, "/")
	api, err := apiclient.NewClientWithResponses(o.Base, apiclient.WithHTTPClient(o.HTTP))
	if err != nil {
		return nil, err
	}
	p := &player{Options: o, ctx: ctx, api: api, run: time.Now().UTC().Format("150405"), read: map[string]int{}}
	if err := p.health(); err != nil {
		return nil, err
	}
	return p.play()
}

func (p *player) say(format string, args ...any) {
	p.step++
	fmt.Fprintf(p.Out, "%2d. %s\n", p.step, fmt.Sprintf(format, args...))
}

func (p *player) detail(format string, args ...any) {
	fmt.Fprintf(p.Out, "    %s\n", fmt.Sprintf(format, args...))
}

// health checks the runner answers, and reads where its outbox stands.
func (p *player) health() error {
	var out runner.OutboxContents
	if err := p.local("/_local/outbox", &out); err != nil {
		return fmt.Errorf("no local runner at %s (start it with `make run`, or give BASE_URL): %w", p.Base, err)
	}
	p.seen = out.Last
	return nil
}

func (p *player) play() (*Result, error) {
	res := &Result{}
	admin, employee, head := randomPhone(), randomPhone(), randomPhone()
	res.AdminPhone, res.EmployeePhone, res.HeadPhone = admin, employee, head

	// 1. Connect.
	var body apiclient.ConnectOrganizationRequest
	body.Name, body.Inn, body.Kpp = "ООО «Ромашка»", "7707083893", ptr("773601001")
	body.ResponsiblePerson.FullName, body.ResponsiblePerson.Phone = "Иванова Мария Петровна", admin
	body.ResponsiblePerson.Email = openapi_types.Email("maria." + p.run + "@romashka.example")
	body.Director.FullName, body.Director.Position = "Петров Пётр Петрович", "Генеральный директор"
	conn, err := p.api.ConnectOrganizationWithResponse(p.ctx, body)
	if err := check(conn, err, 201, "connect the organization"); err != nil {
		return nil, err
	}
	orgID := conn.JSON201.Organization.Id
	res.OrganizationID = orgID
	p.say("Connected %s (organization %s); the responsible person's phone %s", conn.JSON201.Organization.Name, orgID, conn.JSON201.ResponsiblePerson.Phone)

	// 2. The code, from the outbox.
	sent, err := p.api.SendCodeWithResponse(p.ctx, apiclient.SendCodeRequest{OrganizationId: orgID, Channel: "sms"})
	if err := check(sent, err, 202, "send the code"); err != nil {
		return nil, err
	}
	text, err := p.waitSMS(admin, "")
	if err != nil {
		return nil, err
	}
	code := sixDigits.FindString(text)
	p.say("A code went by SMS to %s: %q", admin, text)
	verified, err := p.api.VerifyCodeWithResponse(p.ctx, apiclient.VerifyCodeRequest{OrganizationId: orgID, Code: code})
	if err := check(verified, err, 200, "verify the code"); err != nil {
		return nil, err
	}
	pw, err := p.api.SetPasswordWithResponse(p.ctx, apiclient.SetPasswordRequest{SetupToken: verified.JSON200.SetupToken, Password: adminPassword})
	if err := check(pw, err, 204, "set the password"); err != nil {
		return nil, err
	}
	adminToken, err := p.signIn(admin, adminPassword)
	if err != nil {
		return nil, err
	}
	p.say("Code %s confirmed, password set, the responsible person signed in", code)

	// 3. An API key for the employer system.
	key, err := p.api.CreateApiKeyWithResponse(p.ctx, apiclient.Bearer(adminToken))
	if err := check(key, err, 201, "create an API key"); err != nil {
		return nil, err
	}
	apiKey := key.JSON201.Secret
	p.say("Created an API key for the accounting system (%s…, shown once)", key.JSON201.Prefix)

	// 4. Publication.
	rows := []apiclient.EmployeeRow{
		{ExternalId: ptr("DEMO-HEAD"), LastName: ptr("Орлова"), FirstName: ptr("Анна"), DepartmentId: ptr("ACC"),
			Position: ptr("Главный бухгалтер"), Phone: ptr(head), Email: ptr("orlova." + p.run + "@romashka.example"), Version: ptr(1)},
		{ExternalId: ptr("DEMO-EMP"), LastName: ptr("Зайцев"), FirstName: ptr("Олег"), DepartmentId: ptr("ACC"),
			Position: ptr("Бухгалтер"), Phone: ptr(employee), Email: ptr("zaitsev." + p.run + "@romashka.example"), Version: ptr(1)},
	}
	depts := []apiclient.DepartmentRow{{ExternalId: ptr("ACC"), Name: ptr("Бухгалтерия"), HeadId: ptr("DEMO-HEAD"), Version: ptr(1)}}
	pub, err := p.api.PublishDeltaWithResponse(p.ctx, &apiclient.PublishDeltaParams{IdempotencyKey: "demo-publish-" + p.run},
		apiclient.PublicationBatch{Departments: &depts, Employees: &rows}, apiclient.Bearer(apiKey))
	if err := check(pub, err, 200, "publish the employees"); err != nil {
		return nil, err
	}
	if len(pub.JSON200.Rejected) > 0 || len(pub.JSON200.CannotGetCabinet) > 0 {
		return nil, fmt.Errorf("publish the employees: rows rejected or unable to get a cabinet: %s", pub.Body)
	}
	p.say("The accounting system published the department «Бухгалтерия», its head Анна Орлова (%s) and Олег Зайцев (%s)", head, employee)

	// 5. Cabinets: create, then invite.
	for _, action := range []string{"create", "invite"} {
		req := apiclient.CabinetActionRequest{Action: apiclient.CabinetActionRequestAction(action), EmployeeIds: []string{"DEMO-EMP", "DEMO-HEAD"}}
		if action == "invite" {
			req.Channel = ptr(apiclient.CabinetActionRequestChannel("sms"))
		}
		r, err := p.api.RunCabinetActionWithResponse(p.ctx, &apiclient.RunCabinetActionParams{IdempotencyKey: "demo-" + action + "-" + p.run}, req, apiclient.Bearer(adminToken))
		if err := check(r, err, 200, action+" the cabinets"); err != nil {
			return nil, err
		}
		if r.JSON200.Done != 2 {
			return nil, fmt.Errorf("%s the cabinets: %d of 2 done: %s", action, r.JSON200.Done, r.Body)
		}
	}
	p.say("The responsible person created both cabinets and invited them by SMS")

	// 6. Each activates with the link and a code.
	employeeToken, err := p.activate("Олег", employee, employeePassword)
	if err != nil {
		return nil, err
	}
	headToken, err := p.activate("Анна", head, headPassword)
	if err != nil {
		return nil, err
	}

	// 7. A request, approved by the head.
	start := time.Now().AddDate(0, 0, 30).Format(time.DateOnly)
	days := 14
	var v apiclient.SubmitVacation
	v.Type, v.Fields.StartDate, v.Fields.Days = "annual_vacation", start, &days
	var reqBody apiclient.SubmitRequestRequest
	if err := reqBody.FromSubmitVacation(v); err != nil {
		return nil, err
	}
	sub, err := p.api.SubmitRequestWithResponse(p.ctx, &apiclient.SubmitRequestParams{IdempotencyKey: "demo-vacation-" + p.run}, reqBody, apiclient.Bearer(employeeToken))
	if err := check(sub, err, 201, "submit the vacation request"); err != nil {
		return nil, err
	}
	res.RequestID = sub.JSON201.Id
	p.say("Олег asked for %d days of vacation from %s: request №%d, %s, waiting for %s", days, start, sub.JSON201.Number, sub.JSON201.State, val(sub.JSON201.ApproverId))
	text, err = p.waitSMS(head, "")
	if err != nil {
		return nil, err
	}
	p.detail("Анна's SMS: %q", text)
	approved, err := p.api.ApproveRequestWithResponse(p.ctx, res.RequestID, apiclient.CommentRequest{Comment: ptr("Согласовано, хорошего отдыха")}, apiclient.Bearer(headToken))
	if err := check(approved, err, 200, "approve the request"); err != nil {
		return nil, err
	}
	res.RequestState = string(approved.JSON200.State)
	p.say("Анна approved it: the request is now %s", res.RequestState)
	text, err = p.waitSMS(employee, "согласовано")
	if err != nil {
		return nil, err
	}
	p.detail("Олег's SMS: %q", text)

	// 8. What was sent.
	sms, err := p.smsTo(employee)
	if err != nil {
		return nil, err
	}
	res.EmployeeSMS = sms
	list, err := p.api.ListNotificationsWithResponse(p.ctx, &apiclient.ListNotificationsParams{Limit: ptr(50)}, apiclient.Bearer(adminToken))
	if err := check(list, err, 200, "list the notifications"); err != nil {
		return nil, err
	}
	res.Notifications = list.JSON200.Items
	p.say("The organization's notifications (GET /v1/notifications), newest first:")
	for _, n := range list.JSON200.Items {
		p.detail("%-20s %-5s to %-14s %s", n.Kind, n.Channel, n.To, n.State)
	}
	p.say("Done. Every SMS and e-mail is at %s/_local/outbox; sign in as %s with %q to look around", p.Base, admin, adminPassword)
	return res, nil
}

// activate plays an employee opening the invitation link, asking for a code
// and activating the cabinet, then signing in.
func (p *player) activate(name, phone, password string) (string, error) {
	text, err := p.waitSMS(phone, "activate#")
	if err != nil {
		return "", err
	}
	m := invitationToken.FindStringSubmatch(text)
	if m == nil {
		return "", fmt.Errorf("no invitation link in the SMS to %s: %q", phone, text)
	}
	token := m[1]
	open, err := p.api.OpenInvitationWithResponse(p.ctx, apiclient.InvitationTokenRequest{Token: token})
	if err := check(open, err, 200, "open the invitation"); err != nil {
		return "", err
	}
	codeSent, err := p.api.SendActivationCodeWithResponse(p.ctx, apiclient.ActivationCodeRequest{Token: token})
	if err := check(codeSent, err, 202, "send the activation code"); err != nil {
		return "", err
	}
	codeText, err := p.waitSMS(phone, "")
	if err != nil {
		return "", err
	}
	act, err := p.api.ActivateCabinetWithResponse(p.ctx, apiclient.ActivateRequest{Token: token, Code: sixDigits.FindString(codeText), Password: password})
	if err := check(act, err, 200, "activate the cabinet"); err != nil {
		return "", err
	}
	signed, err := p.signIn(phone, password)
	if err != nil {
		return "", err
	}
	p.say("%s opened the invitation (%s, %s), took the code from the SMS, activated the cabinet and signed in", name, open.JSON200.OrganizationName, open.JSON200.MaskedPhone)
	p.detail("invitation: %q", text)
	return signed, nil
}

func (p *player) signIn(login, password string) (string, error) {
	s, err := p.api.SignInWithResponse(p.ctx, apiclient.SignInRequest{Login: login, Password: password})
	if err := check(s, err, 200, "sign in as "+login); err != nil {
		return "", err
	}
	return s.JSON200.AccessToken, nil
}

// waitSMS waits for the next SMS to phone, after those the story has taken,
// that contains part, and returns its text.
func (p *player) waitSMS(phone, part string) (string, error) {
	deadline := time.Now().Add(p.Patience)
	for {
		texts, err := p.smsTo(phone)
		if err != nil {
			return "", err
		}
		for i := p.read[phone]; i < len(texts); i++ {
			if strings.Contains(texts[i], part) {
				p.read[phone] = i + 1
				return texts[i], nil
			}
		}
		if time.Now().After(deadline) {
			return "", fmt.Errorf("no SMS to %s with %q in the outbox after %s (got %q)", phone, part, p.Patience, texts)
		}
		select {
		case <-p.ctx.Done():
			return "", p.ctx.Err()
		case <-time.After(200 * time.Millisecond): // the poll interval, not an assertion
		}
	}
}

// smsTo lists the texts sent to phone since the story began, oldest first.
func (p *player) smsTo(phone string) ([]string, error) {
	var out runner.OutboxContents
	if err := p.local(fmt.Sprintf("/_local/outbox?since=%d", p.seen), &out); err != nil {
		return nil, err
	}
	var texts []string
	for _, m := range out.SMS {
		if m.To == phone {
			texts = append(texts, m.Text)
		}
	}
	return texts, nil
}

// local reads one of the runner's own JSON routes.
func (p *player) local(path string, out any) error {
	req, err := http.NewRequestWithContext(p.ctx, http.MethodGet, p.Base+path, nil)
	if err != nil {
		return err
	}
	resp, err := p.HTTP.Do(req)
	if err != nil {
		return err
	}
	defer func() { _ = resp.Body.Close() }()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %d %s", path, resp.StatusCode, bytes.TrimSpace(raw))
	}
	return json.Unmarshal(raw, out)
}

// reply is what every generated answer offers.
type reply interface {
	StatusCode() int
	GetBody() []byte
}

// check turns a call that failed or answered another status into an error
// that says which step and what the API answered (its problem+json).
func check(r reply, err error, status int, what string) error {
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	if r.StatusCode() != status {
		return fmt.Errorf("%s: HTTP %d, want %d: %s", what, r.StatusCode(), status, bytes.TrimSpace(r.GetBody()))
	}
	return nil
}

// randomPhone is a Moscow mobile number nobody else in this run has: a new
// one per run keeps the per-phone limits and the unique logins of earlier
// runs out of the way.
func randomPhone() string {
	n, err := rand.Int(rand.Reader, big.NewInt(10_000_000))
	if err != nil {
		panic(errors.Join(errors.New("crypto/rand"), err))
	}
	return fmt.Sprintf("+7916%07d", n.Int64())
}

func ptr[T any](v T) *T { return &v }

func val[T any](p *T) T {
	if p == nil {
		var zero T
		return zero
	}
	return *p
}

package requests

import (
	"context"
	"encoding/json"
	"errors"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kabinet/kabinet/infra/testenv"
	"github.com/kabinet/kabinet/shared/domain"
	"github.com/kabinet/kabinet/shared/notify"
)

const org = "org1"

// t0 is a Monday, 09:00 in Moscow.
var t0 = time.Date(2026, 3, 2, 6, 0, 0, 0, time.UTC)

// env is a service over the fake store, the clock and the queue, with an
// organization of:
//
//	board (dir) — the director's department
//	root (boss) ← sales (head): emp, dep, head2
//	            ← ops (boss2): other, proc
type env struct {
	t     testing.TB
	ctx   context.Context
	store *fakeStore
	clock *testenv.Clock
	queue *testenv.Queue
	svc   *testService
}

var staff = map[string]string{
	"dir": "board", "dir2": "board", "boss": "root", "head": "sales", "head2": "sales", "emp": "sales", "dep": "sales",
	"boss2": "ops", "other": "ops", "proc": "ops",
}

func newEnv(t testing.TB) *env {
	f := newFakeStore()
	f.putOrg(domain.Organization{ID: org, Name: "ООО Ромашка"})
	for id, dept := range staff {
		f.putEmployee(org, Employee{ID: id, FullName: "Сотрудник " + id, DepartmentID: dept, Published: true})
		f.putContact(org, id, Contact{Channel: domain.ChannelEmail, To: id + "@mail.test"})
	}
	f.putContact(org, "", Contact{Channel: domain.ChannelEmail, To: "rp@mail.test"})
	f.putDept(org, Department{ID: "board", HeadID: "dir"})
	f.putDept(org, Department{ID: "root", HeadID: "boss"})
	f.putDept(org, Department{ID: "sales", ParentID: "root", HeadID: "head"})
	f.putDept(org, Department{ID: "ops", ParentID: "root", HeadID: "boss2"})
	f.setDirector(org, "dir")
	e := &env{t: t, ctx: quiet(), store: f, clock: testenv.NewClock(t0), queue: &testenv.Queue{}}
	e.rebuild(e.queue, 3)
	return e
}

// rebuild builds the use cases anew on queue, with the job reading
// jobPage requests at a time.
func (e *env) rebuild(queue notify.Queue, jobPage int) {
	d := deps{Store: e.store, Queue: queue, Clock: e.clock, IDs: &seqIDs{},
		Config: Config{PublicBaseURL: "https://kabinet.test/", JobPage: jobPage}}
	e.svc = &testService{&Requests{d}, &Escalation{d}, &Rerouting{d}}
}

// testService holds every request use case on the same ports, so a test
// can submit, escalate and re-route in one sequence.
type testService struct {
	*Requests
	*Escalation
	*Rerouting
}

func (t *testService) structure(orgID string) *structure { return t.Requests.structure(orgID) }

func employee(id string) Actor {
	return Actor{OrganizationID: org, PersonID: "p-" + id, EmployeeID: id, Role: domain.RoleEmployee, Name: "Сотрудник " + id}
}

var responsible = Actor{OrganizationID: org, PersonID: "p-rp", Role: domain.RoleResponsiblePerson, Name: "Ответственный"}

func vacationInput(startIn, days int) SubmitInput {
	start := today(t0).AddDate(0, 0, startIn).Format(time.DateOnly)
	raw, _ := json.Marshal(map[string]any{"startDate": start, "days": days})
	return SubmitInput{Type: string(TypeVacation), Fields: raw}
}

func certificateInput() SubmitInput {
	return SubmitInput{Type: string(TypeEmploymentCertificate), Fields: json.RawMessage(`{"purpose":"В банк"}`)}
}

func (e *env) submit(a Actor, in SubmitInput) Request {
	e.t.Helper()
	v, err := e.svc.Submit(e.ctx, a, in)
	if err != nil {
		e.t.Fatalf("submit by %s: %v", a.Who(), err)
	}
	return e.store.get(e.t, org, v.ID)
}

func (e *env) approve(a Actor, id string) error {
	_, err := e.svc.Decide(e.ctx, a, id, true, DecisionInput{Comment: "ок"})
	return err
}

func (e *env) reject(a Actor, id string) error {
	_, err := e.svc.Decide(e.ctx, a, id, false, DecisionInput{Reason: "нет замены"})
	return err
}

func (e *env) process(a Actor, id string, act Action) error {
	_, err := e.svc.Process(e.ctx, a, id, act, ProcessInput{Comment: "готово", Reason: "нет оснований"})
	return err
}

func (e *env) get(id string) Request { e.t.Helper(); return e.store.get(e.t, org, id) }

func (e *env) setDeputy(manager, deputy string, from, to int) {
	e.t.Helper()
	d := func(n int) string { return today(e.clock.Now()).AddDate(0, 0, n).Format(time.DateOnly) }
	if _, err := e.svc.SetDeputy(e.ctx, responsible, manager, DeputyInput{DeputyID: deputy, From: d(from), To: d(to)}); err != nil {
		e.t.Fatalf("deputy %s for %s: %v", deputy, manager, err)
	}
}

// job runs the escalation job after the clock moves by d.
func (e *env) job(d time.Duration) JobReport {
	e.t.Helper()
	e.clock.Advance(d)
	rep, err := e.svc.RunJob(e.ctx, time.Now().Add(10*time.Second))
	if err != nil {
		e.t.Fatal(err)
	}
	return rep
}

func codeOf(err error) domain.ErrorCode {
	if e, ok := domain.AsError(err); ok {
		return e.Code
	}
	return ""
}

func wantCode(t testing.TB, what string, err error, code domain.ErrorCode) {
	t.Helper()
	if codeOf(err) != code {
		t.Fatalf("%s: error %v, want %s", what, err, code)
	}
}

// sent lists (to, kind) of messages, in order.
func sent(msgs []notify.Message) []string {
	var out []string
	for _, m := range msgs {
		out = append(out, m.To+" "+string(m.Kind))
	}
	return out
}

func wantSent(t testing.TB, what string, msgs []notify.Message, want ...string) {
	t.Helper()
	if got := sent(msgs); !slices.Equal(got, want) {
		t.Fatalf("%s: messages %v, want %v", what, got, want)
	}
}

// unchanged runs f, which must fail, and checks it changed nothing: the
// stored request, the outbox, the queue.
func (e *env) refused(what, id string, code domain.ErrorCode, f func() error) {
	e.t.Helper()
	before, staged, queued := e.get(id), len(e.store.staged()), len(e.queue.All())
	wantCode(e.t, what, f(), code)
	if after := e.get(id); !requestsEqual(before, after) {
		e.t.Fatalf("%s changed the request:\n%+v\n%+v", what, before, after)
	}
	if len(e.store.staged()) != staged || len(e.queue.All()) != queued {
		e.t.Fatalf("%s staged or queued messages", what)
	}
}

func requestsEqual(a, b Request) bool { return reflect.DeepEqual(a, b) }

func TestSubmitToHead(t *testing.T) {
	e := newEnv(t)
	r := e.submit(employee("emp"), vacationInput(14, 5))
	if r.State != PendingApproval || r.ApproverID != "head" || r.Level != 0 || r.Version != 1 || r.Number != 1 ||
		!r.NeedsApproval || r.Approved || r.DepartmentID != "sales" || r.EmployeeName != "Сотрудник emp" {
		t.Fatalf("submitted %+v", r)
	}
	if !r.AssignedAt.Equal(t0) || !r.DueAt.Equal(t0.Add(24*time.Hour)) || !r.CreatedAt.Equal(t0) || !r.UpdatedAt.Equal(t0) {
		t.Fatalf("times %+v", r)
	}
	if r.Fields.StartDate != "2026-03-16" || r.Fields.EndDate != "2026-03-20" || r.Fields.Days != 5 {
		t.Fatalf("fields %+v", r.Fields)
	}
	if len(r.History) != 1 || r.History[0] != (Step{At: t0, Action: ActSubmit, By: "emp", ByName: "Сотрудник emp", To: PendingApproval, Approver: "head"}) {
		t.Fatalf("history %+v", r.History)
	}
	msgs := e.store.staged()
	wantSent(t, "submit", msgs, "head@mail.test request_submitted")
	m := msgs[0]
	if m.ID != r.ID+".1.request_submitted" || m.OrganizationID != org || m.EmployeeID != "head" || m.Channel != domain.ChannelEmail ||
		!strings.Contains(m.Text, "https://kabinet.test/requests/"+r.ID) || !strings.Contains(m.Text+m.Subject, "Сотрудник emp") {
		t.Fatalf("message %+v", m)
	}
	wantSent(t, "queued", e.queue.All(), "head@mail.test request_submitted")

	// Numbers follow each other; the head's own request goes up a level.
	r2 := e.submit(employee("head"), vacationInput(20, 3))
	if r2.Number != 2 || r2.ApproverID != "boss" || r2.ID <= r.ID {
		t.Fatalf("head's request %+v", r2)
	}
	r3 := e.submit(employee("boss"), vacationInput(20, 3))
	if r3.ApproverID != "dir" || r3.State != PendingApproval {
		t.Fatalf("boss's request %+v", r3)
	}
}

func TestSubmitNobodyToApprove(t *testing.T) {
	e := newEnv(t)
	r := e.submit(employee("dir"), vacationInput(1, 3))
	if r.State != NoApprover || r.ApproverID != "" || !r.DueAt.IsZero() || r.History[0].To != NoApprover || r.History[0].Approver != "" {
		t.Fatalf("director's request %+v", r)
	}
	wantSent(t, "no approver", e.store.staged(), "rp@mail.test request_submitted")
	// Nothing for the job: a request without approver is never escalated nor approved by itself.
	if rep := e.job(1000 * time.Hour); rep != (JobReport{}) {
		t.Fatalf("job on a request without approver: %+v", rep)
	}
	if got := e.get(r.ID); got.State != NoApprover || got.Version != 1 {
		t.Fatalf("after the job %+v", got)
	}
}

func TestSubmitNeedingNoApproval(t *testing.T) {
	e := newEnv(t)
	r := e.submit(employee("emp"), certificateInput())
	if r.State != ToProcess || r.NeedsApproval || r.Approved || !r.ProcessorIsResponsible || r.ProcessorID != "" ||
		r.ApproverID != "" || !r.DueAt.IsZero() || r.Fields.Copies != 1 || r.History[0].To != ToProcess {
		t.Fatalf("certificate %+v", r)
	}
	wantSent(t, "certificate", e.store.staged(), "rp@mail.test work_assigned")

	// A processor by type, overridden for a department.
	if _, err := e.svc.UpdateSettings(e.ctx, org, SettingsInput{Processing: map[string]*Rule{
		string(TypeEmploymentCertificate): {ProcessorID: "proc", Departments: map[string]string{"ops": "boss2"}},
	}}); err != nil {
		t.Fatal(err)
	}
	r = e.submit(employee("emp"), certificateInput())
	if r.ProcessorID != "proc" || r.ProcessorIsResponsible {
		t.Fatalf("processor %+v", r)
	}
	r = e.submit(employee("other"), certificateInput())
	if r.ProcessorID != "boss2" {
		t.Fatalf("department override: %+v", r)
	}
	// Approval switched on for the type: routed like a vacation.
	if _, err := e.svc.UpdateSettings(e.ctx, org, SettingsInput{Types: map[string]TypeSetting{
		string(TypeEmploymentCertificate): {Enabled: true, NeedsApproval: true}}}); err != nil {
		t.Fatal(err)
	}
	r = e.submit(employee("emp"), certificateInput())
	if r.State != PendingApproval || r.ApproverID != "head" || !r.NeedsApproval {
		t.Fatalf("certificate needing approval %+v", r)
	}
}

func TestSubmitRefused(t *testing.T) {
	e := newEnv(t)
	if _, err := e.svc.UpdateSettings(e.ctx, org, SettingsInput{Types: map[string]TypeSetting{
		string(TypeFreeForm): {Enabled: false}}}); err != nil {
		t.Fatal(err)
	}
	e.store.setPublished(org, "other", false)
	free := SubmitInput{Type: string(TypeFreeForm), Fields: json.RawMessage(`{"subject":"s","text":"t"}`)}
	for _, tt := range []struct {
		name string
		a    Actor
		in   SubmitInput
		code domain.ErrorCode
		bad  string
	}{
		{"unknown type", employee("emp"), SubmitInput{Type: "vacation", Fields: json.RawMessage(`{}`)}, domain.CodeValidationFailed, "type"},
		{"disabled type", employee("emp"), free, domain.CodeValidationFailed, "type"},
		{"bad fields", employee("emp"), vacationInput(-1, 3), domain.CodeValidationFailed, "fields.startDate"},
		{"no fields", employee("emp"), SubmitInput{Type: string(TypeVacation)}, domain.CodeValidationFailed, "fields"},
		{"unpublished employee", employee("other"), vacationInput(3, 3), domain.CodeForbidden, ""},
		{"unknown employee", employee("ghost"), vacationInput(3, 3), domain.CodeForbidden, ""},
		{"the responsible person", responsible, vacationInput(3, 3), domain.CodeForbidden, ""},
	} {
		_, err := e.svc.Submit(e.ctx, tt.a, tt.in)
		wantCode(t, tt.name, err, tt.code)
		if tt.bad != "" {
			if _, ok := problemsOf(t, err)[tt.bad]; !ok {
				t.Errorf("%s: problems %v, want %s", tt.name, problemsOf(t, err), tt.bad)
			}
		}
	}
	if len(e.store.requests) != 0 || len(e.store.staged()) != 0 || len(e.queue.All()) != 0 {
		t.Fatal("a refused submission left something behind")
	}
}

// The day is Moscow's: at 01:30 there on 2 March, 1 March is past.
func TestSubmitMoscowDay(t *testing.T) {
	e := newEnv(t)
	e.clock.Advance(-t0.Sub(time.Date(2026, 3, 1, 22, 30, 0, 0, time.UTC)))
	raw := func(d string) SubmitInput {
		return SubmitInput{Type: string(TypeVacation), Fields: json.RawMessage(`{"startDate":"` + d + `","days":1}`)}
	}
	_, err := e.svc.Submit(e.ctx, employee("emp"), raw("2026-03-01"))
	if problemsOf(t, err)["fields.startDate"] != "date_in_past" {
		t.Fatalf("1 March at 01:30 MSK on 2 March: %v", err)
	}
	e.submit(employee("emp"), raw("2026-03-02"))
}

func TestDecideApprove(t *testing.T) {
	e := newEnv(t)
	r := e.submit(employee("emp"), vacationInput(14, 5))
	e.clock.Advance(time.Hour)
	v, err := e.svc.Decide(e.ctx, employee("head"), r.ID, true, DecisionInput{Comment: "  Хорошего отдыха  "})
	if err != nil {
		t.Fatal(err)
	}
	got := e.get(r.ID)
	if v.State != ToProcess || v.Version != 2 || got.State != ToProcess || !got.Approved || got.ApproverID != "" ||
		!got.DueAt.IsZero() || !got.ProcessorIsResponsible || got.Version != 2 || !got.UpdatedAt.Equal(t0.Add(time.Hour)) {
		t.Fatalf("approved %+v", got)
	}
	step := got.History[1]
	if step != (Step{At: t0.Add(time.Hour), Action: ActApprove, By: "head", ByName: "Сотрудник head", From: PendingApproval, To: ToProcess, Comment: "Хорошего отдыха"}) {
		t.Fatalf("step %+v", step)
	}
	wantSent(t, "approve", e.store.staged()[1:], "emp@mail.test request_approved", "rp@mail.test work_assigned")
	if ids := []string{e.store.staged()[1].ID, e.store.staged()[2].ID}; ids[0] != r.ID+".2.request_approved" || ids[1] != r.ID+".2.work_assigned" {
		t.Fatalf("message ids %v", ids)
	}
	// Decided: any later decision conflicts; cancelling an approved request too.
	e.refused("second approval", r.ID, domain.CodeRequestState, func() error { return e.approve(employee("head"), r.ID) })
	e.refused("rejection after approval", r.ID, domain.CodeRequestState, func() error { return e.reject(employee("head"), r.ID) })
	e.refused("cancel after approval", r.ID, domain.CodeRequestState, func() error { _, err := e.svc.Cancel(e.ctx, employee("emp"), r.ID); return err })
}

func TestDecideReject(t *testing.T) {
	e := newEnv(t)
	r := e.submit(employee("emp"), vacationInput(14, 5))
	e.refused("rejection without reason", r.ID, domain.CodeValidationFailed, func() error {
		_, err := e.svc.Decide(e.ctx, employee("head"), r.ID, false, DecisionInput{Reason: "   ", Comment: "x"})
		return err
	})
	e.refused("reason with control characters", r.ID, domain.CodeValidationFailed, func() error {
		_, err := e.svc.Decide(e.ctx, employee("head"), r.ID, false, DecisionInput{Reason: "a\x00"})
		return err
	})
	e.refused("reason too long", r.ID, domain.CodeValidationFailed, func() error {
		_, err := e.svc.Decide(e.ctx, employee("head"), r.ID, false, DecisionInput{Reason: strings.Repeat("я", 1001)})
		return err
	})
	if err := e.reject(employee("head"), r.ID); err != nil {
		t.Fatal(err)
	}
	got := e.get(r.ID)
	if got.State != Rejected || got.Approved || got.ApproverID != "" || !got.DueAt.IsZero() || got.History[1].Comment != "нет замены" {
		t.Fatalf("rejected %+v", got)
	}
	msgs := e.store.staged()
	wantSent(t, "reject", msgs[1:], "emp@mail.test request_rejected")
	if !strings.Contains(msgs[1].Text, "нет замены") {
		t.Fatalf("the reason is not in %q", msgs[1].Text)
	}
	e.refused("approve a rejected request", r.ID, domain.CodeRequestState, func() error { return e.approve(employee("head"), r.ID) })
	e.refused("cancel a rejected request", r.ID, domain.CodeRequestState, func() error { _, err := e.svc.Cancel(e.ctx, employee("emp"), r.ID); return err })
}

func TestDecideRefused(t *testing.T) {
	e := newEnv(t)
	r := e.submit(employee("emp"), vacationInput(14, 5))
	for _, a := range []Actor{employee("emp"), employee("boss"), employee("dir"), employee("other"), employee("dep"), responsible} {
		e.refused("approval by "+a.Who(), r.ID, domain.CodeNotAssigned, func() error { return e.approve(a, r.ID) })
		e.refused("rejection by "+a.Who(), r.ID, domain.CodeNotAssigned, func() error { return e.reject(a, r.ID) })
	}
	// Another organization's request does not exist for it.
	stranger := employee("head")
	stranger.OrganizationID = "org2"
	e.refused("approval from another organization", r.ID, domain.CodeNotFound, func() error { return e.approve(stranger, r.ID) })

	// Without an approver, only the responsible person decides.
	n := e.submit(employee("dir"), vacationInput(3, 3))
	for _, a := range []Actor{employee("dir"), employee("head"), employee("boss")} {
		e.refused("no-approver approval by "+a.Who(), n.ID, domain.CodeNotAssigned, func() error { return e.approve(a, n.ID) })
	}
	if err := e.reject(responsible, n.ID); err != nil {
		t.Fatal(err)
	}
	if got := e.get(n.ID); got.State != Rejected || got.History[1].By != ByResponsible {
		t.Fatalf("rejected by the responsible person: %+v", got)
	}
	n2 := e.submit(employee("dir"), vacationInput(3, 3))
	if err := e.approve(responsible, n2.ID); err != nil {
		t.Fatal(err)
	}
	if got := e.get(n2.ID); got.State != ToProcess || !got.Approved {
		t.Fatalf("approved by the responsible person: %+v", got)
	}
}

func TestDecideDeputy(t *testing.T) {
	e := newEnv(t)
	r := e.submit(employee("emp"), vacationInput(14, 5))

	// Named from tomorrow: not yet.
	e.setDeputy("head", "dep", 1, 5)
	e.refused("deputy before the delegation", r.ID, domain.CodeNotAssigned, func() error { return e.approve(employee("dep"), r.ID) })
	// The deputy's deputy is nobody's deputy.
	e.setDeputy("dep", "other", 0, 5)
	e.clock.Advance(24 * time.Hour)
	e.refused("deputy's deputy", r.ID, domain.CodeNotAssigned, func() error { return e.approve(employee("other"), r.ID) })
	if err := e.approve(employee("dep"), r.ID); err != nil {
		t.Fatal(err)
	}
	if step := e.get(r.ID).History[1]; step.By != "dep" || step.OnBehalfOf != "head" || step.Action != ActApprove {
		t.Fatalf("deputy's step %+v", step)
	}

	// After the delegation ends, the deputy decides no more.
	r2 := e.submit(employee("emp"), vacationInput(14, 5))
	e.clock.Advance(5 * 24 * time.Hour)
	e.refused("deputy after the delegation", r2.ID, domain.CodeNotAssigned, func() error { return e.approve(employee("dep"), r2.ID) })
	if err := e.approve(employee("head"), r2.ID); err != nil {
		t.Fatal(err)
	}
}

// A deputy never decides their own request, nor is it shown to them as
// theirs to decide, nor are they told it waits for them.
func TestDeputyOwnRequest(t *testing.T) {
	e := newEnv(t)
	e.setDeputy("head", "dep", 0, 10)
	r := e.submit(employee("dep"), vacationInput(14, 5))
	if r.ApproverID != "head" {
		t.Fatalf("routed to %s", r.ApproverID)
	}
	wantSent(t, "arrival of the deputy's own request", e.store.staged(), "head@mail.test request_submitted")
	e.refused("deputy approving own request", r.ID, domain.CodeNotAssigned, func() error { return e.approve(employee("dep"), r.ID) })
	page, err := e.svc.Approvals(e.ctx, employee("dep"), 10, "")
	if err != nil || len(page.Items) != 0 {
		t.Fatalf("deputy's approvals %+v, %v", page, err)
	}
	d, err := e.svc.Get(e.ctx, employee("dep"), r.ID)
	if err != nil || d.OtherRequests != nil {
		t.Fatalf("the deputy sees their own request as its approver: %+v, %v", d, err)
	}
	// The reminder goes to the approver as well.
	e.job(25 * time.Hour)
	wantSent(t, "reminder", e.store.staged()[1:], "head@mail.test request_submitted")
	// Someone else's request reaches the deputy.
	e.submit(employee("emp"), vacationInput(14, 5))
	wantSent(t, "arrival with a deputy", e.store.staged()[2:], "dep@mail.test request_submitted")
}

// Two decisions at once: one is recorded, the other conflicts.
func TestDecideConcurrently(t *testing.T) {
	e := newEnv(t)
	e.setDeputy("head", "dep", 0, 5)
	for i := 0; i < 20; i++ {
		r := e.submit(employee("emp"), vacationInput(14, 5))
		staged := len(e.store.staged())
		var wg sync.WaitGroup
		errs := make([]error, 4)
		for j, a := range []Actor{employee("head"), employee("dep"), employee("head"), employee("dep")} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				errs[j] = e.svc.decide2(e.ctx, a, r.ID, j%2 == 0)
			}()
		}
		wg.Wait()
		ok := 0
		for _, err := range errs {
			switch {
			case err == nil:
				ok++
			case codeOf(err) != domain.CodeRequestState:
				t.Fatalf("losing decision: %v", err)
			}
		}
		got := e.get(r.ID)
		decisions := 0
		for _, h := range got.History {
			if h.Action == ActApprove || h.Action == ActReject {
				decisions++
			}
		}
		if ok != 1 || decisions != 1 || got.Version != 2 {
			t.Fatalf("%d decisions won, %d recorded, version %d", ok, decisions, got.Version)
		}
		// Only the winner's messages are staged.
		want := 1
		if got.State == ToProcess {
			want = 2
		}
		if n := len(e.store.staged()) - staged; n != want {
			t.Fatalf("%d messages staged for one %s", n, got.State)
		}
	}
}

func (s *Requests) decide2(ctx context.Context, a Actor, id string, approve bool) error {
	_, err := s.Decide(ctx, a, id, approve, DecisionInput{Comment: "ок", Reason: "нет"})
	return err
}

// A write that loses to a concurrent one is a state conflict and stages
// and queues nothing.
func TestStaleWrite(t *testing.T) {
	e := newEnv(t)
	r := e.submit(employee("emp"), vacationInput(14, 5))
	e.store.beforeSave = func(got Request, prev int64) { e.store.bump(org, got.ID) }
	staged, queued := len(e.store.staged()), len(e.queue.All())
	wantCode(t, "approval losing its write", e.approve(employee("head"), r.ID), domain.CodeRequestState)
	_, err := e.svc.Cancel(e.ctx, employee("emp"), r.ID)
	wantCode(t, "cancel losing its write", err, domain.CodeRequestState)
	if len(e.store.staged()) != staged || len(e.queue.All()) != queued {
		t.Fatal("a lost write staged or queued messages")
	}
	rep := e.job(25 * time.Hour)
	if rep.Lost != 1 || rep.Reminded != 0 || len(e.store.staged()) != staged || len(e.queue.All()) != queued {
		t.Fatalf("job losing its write: %+v", rep)
	}
	e.store.beforeSave = nil
	if got := e.get(r.ID); got.State != PendingApproval || len(got.History) != 1 {
		t.Fatalf("after lost writes %+v", got)
	}
	// Any other store failure is passed on as is.
	boom := errors.New("boom")
	e.store.failSave = boom
	if err := e.approve(employee("head"), r.ID); !errors.Is(err, boom) {
		t.Fatalf("failing store: %v", err)
	}
}

func TestProcess(t *testing.T) {
	e := newEnv(t)
	if _, err := e.svc.UpdateSettings(e.ctx, org, SettingsInput{Processing: map[string]*Rule{
		string(TypeVacation): {ProcessorID: "proc"}}}); err != nil {
		t.Fatal(err)
	}
	r := e.submit(employee("emp"), vacationInput(14, 5))
	e.refused("take before approval", r.ID, domain.CodeRequestState, func() error { return e.process(employee("proc"), r.ID, ActTake) })
	if err := e.approve(employee("head"), r.ID); err != nil {
		t.Fatal(err)
	}
	if got := e.get(r.ID); got.ProcessorID != "proc" || got.ProcessorIsResponsible {
		t.Fatalf("processor %+v", got)
	}
	for _, a := range []Actor{employee("emp"), employee("head"), employee("other"), responsible} {
		e.refused("take by "+a.Who(), r.ID, domain.CodeNotAssigned, func() error { return e.process(a, r.ID, ActTake) })
	}
	e.refused("complete before take", r.ID, domain.CodeRequestState, func() error { return e.process(employee("proc"), r.ID, ActComplete) })
	for _, act := range []Action{ActCancel, ActApprove, ActReject, ActEscalate, ActReroute, ActSubmit, "nonsense"} {
		if err := e.process(employee("proc"), r.ID, act); err == nil {
			t.Fatalf("Process(%s) accepted", act)
		}
		if got := e.get(r.ID); got.State != ToProcess || got.Version != 2 {
			t.Fatalf("Process(%s) changed the request: %+v", act, got)
		}
	}
	staged := len(e.store.staged())
	if err := e.process(employee("proc"), r.ID, ActTake); err != nil {
		t.Fatal(err)
	}
	e.refused("take twice", r.ID, domain.CodeRequestState, func() error { return e.process(employee("proc"), r.ID, ActTake) })
	e.refused("decline without reason", r.ID, domain.CodeValidationFailed, func() error {
		_, err := e.svc.Process(e.ctx, employee("proc"), r.ID, ActDecline, ProcessInput{Comment: "x"})
		return err
	})
	e.refused("cancel in work", r.ID, domain.CodeRequestState, func() error { _, err := e.svc.Cancel(e.ctx, employee("emp"), r.ID); return err })
	if err := e.process(employee("proc"), r.ID, ActComplete); err != nil {
		t.Fatal(err)
	}
	got := e.get(r.ID)
	if got.State != Completed || got.Version != 4 || got.History[2].Action != ActTake || got.History[3].Action != ActComplete || got.History[3].Comment != "готово" {
		t.Fatalf("completed %+v", got)
	}
	wantSent(t, "processing", e.store.staged()[staged:], "emp@mail.test request_in_work", "emp@mail.test request_completed")
	for _, act := range []Action{ActTake, ActComplete, ActDecline} {
		e.refused("after completion: "+string(act), r.ID, domain.CodeRequestState, func() error { return e.process(employee("proc"), r.ID, act) })
	}

	// Declined straight from to_process, by the responsible person processing it.
	c := e.submit(employee("emp"), certificateInput())
	for _, act := range []Action{ActCancel, ActApprove, ActReject} {
		e.refused("Process("+string(act)+") of a certificate", c.ID, domain.CodeValidationFailed, func() error { return e.process(responsible, c.ID, act) })
	}
	e.refused("decline by an employee", c.ID, domain.CodeNotAssigned, func() error { return e.process(employee("proc"), c.ID, ActDecline) })
	if err := e.process(responsible, c.ID, ActDecline); err != nil {
		t.Fatal(err)
	}
	got = e.get(c.ID)
	if got.State != Declined || got.History[1].By != ByResponsible || got.History[1].Comment != "нет оснований" {
		t.Fatalf("declined %+v", got)
	}
	last := e.store.staged()[len(e.store.staged())-1]
	if last.Kind != notify.KindRequestDeclined || !strings.Contains(last.Text, "нет оснований") {
		t.Fatalf("decline message %+v", last)
	}
}

func TestCancel(t *testing.T) {
	e := newEnv(t)
	r := e.submit(employee("emp"), vacationInput(14, 5))
	for _, a := range []Actor{employee("head"), employee("other"), responsible} {
		e.refused("cancel by "+a.Who(), r.ID, domain.CodeNotFound, func() error { _, err := e.svc.Cancel(e.ctx, a, r.ID); return err })
	}
	staged := len(e.store.staged())
	v, err := e.svc.Cancel(e.ctx, employee("emp"), r.ID)
	if err != nil {
		t.Fatal(err)
	}
	got := e.get(r.ID)
	if v.State != Cancelled || got.State != Cancelled || got.ApproverID != "" || !got.DueAt.IsZero() || got.Version != 2 ||
		got.History[1].Action != ActCancel || got.History[1].By != "emp" {
		t.Fatalf("cancelled %+v", got)
	}
	if len(e.store.staged()) != staged {
		t.Fatal("a cancellation sent messages")
	}
	e.refused("cancel twice", r.ID, domain.CodeRequestState, func() error { _, err := e.svc.Cancel(e.ctx, employee("emp"), r.ID); return err })
	e.refused("approve cancelled", r.ID, domain.CodeRequestState, func() error { return e.approve(employee("head"), r.ID) })

	// Needing no approval: until it is taken.
	c := e.submit(employee("emp"), certificateInput())
	if _, err := e.svc.Cancel(e.ctx, employee("emp"), c.ID); err != nil {
		t.Fatal(err)
	}
	if got := e.get(c.ID); got.State != Cancelled || got.ProcessorIsResponsible {
		t.Fatalf("cancelled certificate %+v", got)
	}
	c2 := e.submit(employee("emp"), certificateInput())
	if err := e.process(responsible, c2.ID, ActTake); err != nil {
		t.Fatal(err)
	}
	e.refused("cancel taken", c2.ID, domain.CodeRequestState, func() error { _, err := e.svc.Cancel(e.ctx, employee("emp"), c2.ID); return err })
	// Without an approver.
	n := e.submit(employee("dir"), vacationInput(3, 3))
	if _, err := e.svc.Cancel(e.ctx, employee("dir"), n.ID); err != nil {
		t.Fatal(err)
	}
}

func TestGet(t *testing.T) {
	e := newEnv(t)
	e.setDeputy("head", "dep", 0, 30)
	r := e.submit(employee("emp"), vacationInput(14, 5))       // 16–20 March
	overlap := e.submit(employee("emp"), vacationInput(18, 5)) // 20–24 March
	apart := e.submit(employee("emp"), vacationInput(40, 5))   // April
	cert := e.submit(employee("emp"), certificateInput())      // 2 March
	other := e.submit(employee("other"), vacationInput(14, 5)) // someone else's
	visible := func(a Actor, id string, approver bool) {
		t.Helper()
		d, err := e.svc.Get(e.ctx, a, id)
		if err != nil {
			t.Fatalf("%s cannot see %s: %v", a.Who(), id, err)
		}
		if d.ID != id || len(d.History) == 0 {
			t.Fatalf("detail %+v", d)
		}
		if approver != (d.OtherRequests != nil) {
			t.Fatalf("%s: other requests %+v", a.Who(), d.OtherRequests)
		}
		if approver {
			var ids []string
			for _, o := range d.OtherRequests {
				ids = append(ids, o.ID)
			}
			if !slices.Equal(ids, []string{overlap.ID}) {
				t.Fatalf("%s sees overlapping %v, want [%s]", a.Who(), ids, overlap.ID)
			}
		}
	}
	invisible := func(a Actor, id string) {
		t.Helper()
		if _, err := e.svc.Get(e.ctx, a, id); !errors.Is(err, domain.ErrNotFound) {
			t.Fatalf("%s sees %s: %v", a.Who(), id, err)
		}
	}
	visible(employee("emp"), r.ID, false)
	visible(employee("head"), r.ID, true)
	visible(employee("dep"), r.ID, true)
	visible(responsible, r.ID, true)
	for _, a := range []string{"boss", "dir", "other", "proc", "head2"} {
		invisible(employee(a), r.ID)
	}
	invisible(employee("emp"), other.ID)
	visible(employee("emp"), apart.ID, false)
	visible(employee("emp"), cert.ID, false)

	// After the decision the approver still sees it (not as approver); the
	// processor sees it; the deputy no longer does.
	if err := e.approve(employee("head"), r.ID); err != nil {
		t.Fatal(err)
	}
	visible(employee("head"), r.ID, false)
	visible(responsible, r.ID, false)
	invisible(employee("dep"), r.ID)
	if _, err := e.svc.Get(e.ctx, employee("emp"), "R999999"); !errors.Is(err, domain.ErrNotFound) {
		t.Fatalf("absent request: %v", err)
	}
}

// The certificate of the day overlaps a vacation covering it.
func TestGetOverlapWithDatelessRequest(t *testing.T) {
	e := newEnv(t)
	v := e.submit(employee("emp"), vacationInput(0, 3))
	c := e.submit(employee("emp"), certificateInput())
	d, err := e.svc.Get(e.ctx, employee("head"), v.ID)
	if err != nil || len(d.OtherRequests) != 1 || d.OtherRequests[0].ID != c.ID {
		t.Fatalf("other requests %+v, %v", d.OtherRequests, err)
	}
}

// pageAll reads every page of list, checking the pages are in id order
// without repeats.
func pageAll(t testing.TB, limit int, list func(limit int, after string) (Page, error)) []string {
	t.Helper()
	var ids []string
	after := ""
	for i := 0; ; i++ {
		if i > 100 {
			t.Fatal("endless pages")
		}
		p, err := list(limit, after)
		if err != nil {
			t.Fatal(err)
		}
		if len(p.Items) > limit {
			t.Fatalf("page of %d over a limit of %d", len(p.Items), limit)
		}
		for _, v := range p.Items {
			if len(ids) > 0 && v.ID <= ids[len(ids)-1] {
				t.Fatalf("page out of order: %s after %v", v.ID, ids)
			}
			ids = append(ids, v.ID)
		}
		if p.NextCursor == "" {
			return ids
		}
		var ok bool
		if after, ok = DecodeCursor(p.NextCursor); !ok {
			t.Fatalf("bad cursor %q", p.NextCursor)
		}
	}
}

func TestApprovals(t *testing.T) {
	e := newEnv(t)
	// dep stands in for head; dep's own requests wait for head.
	e.setDeputy("head", "dep", 0, 30)
	var forHead, forDep []string
	for i := 0; i < 4; i++ {
		e.submit(employee("dep"), vacationInput(14+i, 1))
		e.submit(employee("dep"), vacationInput(24+i, 1))
		forHead = append(forHead, e.submit(employee("emp"), vacationInput(34+i, 1)).ID)
	}
	for i := 0; i < 2; i++ {
		// head2 heads nothing; dep's own inbox holds nothing either. A
		// request of head goes to boss.
		e.submit(employee("head"), vacationInput(44+i, 1))
	}
	forDep = append(forDep, forHead...)
	for _, limit := range []int{1, 2, 3, 5, 100} {
		got := pageAll(t, limit, func(limit int, after string) (Page, error) {
			return e.svc.Approvals(e.ctx, employee("dep"), limit, after)
		})
		if !slices.Equal(got, forDep) {
			t.Fatalf("limit %d: the deputy's approvals %v, want %v", limit, got, forDep)
		}
	}
	var all []string
	for _, r := range e.store.sorted(org, func(r Request) bool { return r.ApproverID == "head" }) {
		all = append(all, r.ID)
	}
	got := pageAll(t, 2, func(limit int, after string) (Page, error) {
		return e.svc.Approvals(e.ctx, employee("head"), limit, after)
	})
	if !slices.Equal(got, all) || len(all) != 12 {
		t.Fatalf("head's approvals %v, want %v", got, all)
	}
	got = pageAll(t, 2, func(limit int, after string) (Page, error) {
		return e.svc.Approvals(e.ctx, employee("boss"), limit, after)
	})
	if len(got) != 2 {
		t.Fatalf("boss's approvals %v", got)
	}
	// The responsible person sees those nobody can approve.
	n := e.submit(employee("dir"), vacationInput(3, 3))
	got = pageAll(t, 5, func(limit int, after string) (Page, error) { return e.svc.Approvals(e.ctx, responsible, limit, after) })
	if !slices.Equal(got, []string{n.ID}) {
		t.Fatalf("responsible person's approvals %v", got)
	}
	// Decided requests leave the inbox.
	if err := e.approve(employee("dep"), forHead[0]); err != nil {
		t.Fatal(err)
	}
	got = pageAll(t, 3, func(limit int, after string) (Page, error) {
		return e.svc.Approvals(e.ctx, employee("dep"), limit, after)
	})
	if !slices.Equal(got, forHead[1:]) {
		t.Fatalf("after a decision %v", got)
	}
	// Once the delegation is over the deputy sees none of them.
	e.clock.Advance(31 * 24 * time.Hour)
	got = pageAll(t, 3, func(limit int, after string) (Page, error) {
		return e.svc.Approvals(e.ctx, employee("dep"), limit, after)
	})
	if len(got) != 0 {
		t.Fatalf("after the delegation %v", got)
	}
}

func TestProcessingInbox(t *testing.T) {
	e := newEnv(t)
	if _, err := e.svc.UpdateSettings(e.ctx, org, SettingsInput{Processing: map[string]*Rule{
		string(TypeEmploymentCertificate): {ProcessorID: "proc"}}}); err != nil {
		t.Fatal(err)
	}
	var mine []string
	for i := 0; i < 5; i++ {
		mine = append(mine, e.submit(employee("emp"), certificateInput()).ID)
	}
	v := e.submit(employee("emp"), vacationInput(14, 5))
	if err := e.approve(employee("head"), v.ID); err != nil {
		t.Fatal(err)
	}
	if err := e.process(employee("proc"), mine[0], ActTake); err != nil { // in work: still theirs
		t.Fatal(err)
	}
	if err := e.process(employee("proc"), mine[1], ActDecline); err != nil { // final: no more
		t.Fatal(err)
	}
	got := pageAll(t, 2, func(limit int, after string) (Page, error) {
		return e.svc.Processing(e.ctx, employee("proc"), limit, after)
	})
	if want := append([]string{mine[0]}, mine[2:]...); !slices.Equal(got, want) {
		t.Fatalf("processor's work %v, want %v", got, want)
	}
	got = pageAll(t, 2, func(limit int, after string) (Page, error) { return e.svc.Processing(e.ctx, responsible, limit, after) })
	if !slices.Equal(got, []string{v.ID}) {
		t.Fatalf("responsible person's work %v", got)
	}
	mine2, err := e.svc.Mine(e.ctx, employee("emp"), 3, "")
	if err != nil || len(mine2.Items) != 3 || mine2.Items[0].ID != v.ID || mine2.NextCursor == "" {
		t.Fatalf("mine %+v, %v", mine2, err)
	}
}

func TestSetDeputy(t *testing.T) {
	e := newEnv(t)
	day := func(n int) string { return today(t0).AddDate(0, 0, n).Format(time.DateOnly) }
	in := func(dep string, from, to int) DeputyInput {
		return DeputyInput{DeputyID: dep, From: day(from), To: day(to)}
	}
	d, err := e.svc.SetDeputy(e.ctx, employee("head"), "head", in("dep", -3, 3))
	if err != nil {
		t.Fatal(err)
	}
	if d.Version != 1 || d.SetBy != "head" || d.ManagerID != "head" || d.DeputyID != "dep" || !d.ActiveOn(day(0)) || d.ActiveOn(day(4)) {
		t.Fatalf("deputy %+v", d)
	}
	d, err = e.svc.SetDeputy(e.ctx, responsible, "head", in("other", 0, 366))
	if err != nil || d.Version != 2 || d.SetBy != ByResponsible {
		t.Fatalf("replaced deputy %+v, %v", d, err)
	}
	if got, err := e.svc.DeputyOf(e.ctx, employee("head"), "head"); err != nil || got.DeputyID != "other" {
		t.Fatalf("deputy of head %+v, %v", got, err)
	}
	if ds, _ := e.store.DeputiesOf(e.ctx, org, "dep"); len(ds) != 0 {
		t.Fatalf("the replaced deputy is still listed: %+v", ds)
	}
	for _, tt := range []struct {
		name    string
		a       Actor
		manager string
		in      DeputyInput
		code    domain.ErrorCode
		field   string
	}{
		{"someone else's deputy", employee("emp"), "head", in("emp", 0, 3), domain.CodeForbidden, ""},
		{"oneself", employee("head"), "head", in("head", 0, 3), domain.CodeValidationFailed, "deputyId"},
		{"no deputy", employee("head"), "head", in("", 0, 3), domain.CodeValidationFailed, "deputyId"},
		{"bad from", employee("head"), "head", DeputyInput{DeputyID: "dep", From: "03.03.2026", To: day(3)}, domain.CodeValidationFailed, "from"},
		{"bad to", employee("head"), "head", DeputyInput{DeputyID: "dep", From: day(0), To: "tomorrow"}, domain.CodeValidationFailed, "to"},
		{"to before from", employee("head"), "head", in("dep", 3, 2), domain.CodeValidationFailed, "to"},
		{"in the past", employee("head"), "head", in("dep", -5, -1), domain.CodeValidationFailed, "to"},
		{"over a year", employee("head"), "head", in("dep", 0, 367), domain.CodeValidationFailed, "to"},
		{"unpublished deputy", employee("head"), "head", in("ghost", 0, 3), domain.CodeValidationFailed, "deputyId"},
		{"unknown manager", responsible, "ghost", in("dep", 0, 3), domain.CodeNotFound, ""},
	} {
		_, err := e.svc.SetDeputy(e.ctx, tt.a, tt.manager, tt.in)
		wantCode(t, tt.name, err, tt.code)
		if tt.field != "" {
			if _, ok := problemsOf(t, err)[tt.field]; !ok {
				t.Errorf("%s: problems %v, want %s", tt.name, problemsOf(t, err), tt.field)
			}
		}
	}
	if got, _ := e.svc.DeputyOf(e.ctx, responsible, "head"); got.Version != 2 || got.DeputyID != "other" {
		t.Fatalf("a refused change changed the deputy: %+v", got)
	}
	if err := e.svc.RemoveDeputy(e.ctx, employee("emp"), "head"); codeOf(err) != domain.CodeForbidden {
		t.Fatalf("removal by another: %v", err)
	}
	if err := e.svc.RemoveDeputy(e.ctx, employee("head"), "head"); err != nil {
		t.Fatal(err)
	}
	if err := e.svc.RemoveDeputy(e.ctx, employee("head"), "head"); !errors.Is(err, domain.ErrNotFound) {
		t.Fatalf("second removal: %v", err)
	}
	// A fresh delegation starts over at version 1.
	if d, err := e.svc.SetDeputy(e.ctx, employee("head"), "head", in("dep", 0, 1)); err != nil || d.Version != 1 {
		t.Fatalf("new deputy %+v, %v", d, err)
	}
}

func TestRunJobRemindsAndEscalates(t *testing.T) {
	e := newEnv(t)
	r := e.submit(employee("emp"), vacationInput(30, 5))
	if rep := e.job(23 * time.Hour); rep != (JobReport{}) {
		t.Fatalf("before the reminder: %+v", rep)
	}
	// Reminder to head at 24 h; nothing recorded in the history.
	if rep := e.job(time.Hour); rep != (JobReport{Read: 1, Reminded: 1}) {
		t.Fatalf("reminder: %+v", rep)
	}
	got := e.get(r.ID)
	if got.ApproverID != "head" || got.Version != 2 || len(got.History) != 1 || !got.RemindedAt.Equal(t0.Add(24*time.Hour)) ||
		!got.DueAt.Equal(t0.Add(96*time.Hour)) {
		t.Fatalf("reminded %+v", got)
	}
	msgs := e.store.staged()
	wantSent(t, "reminder", msgs[1:], "head@mail.test request_submitted")
	if m := msgs[1]; m.ID != r.ID+".2.request_submitted.reminder" || !strings.HasPrefix(m.Text, "Напоминание. ") || !strings.HasPrefix(m.Subject, "Напоминание: ") {
		t.Fatalf("reminder message %+v", m)
	}
	if rep := e.job(71 * time.Hour); rep != (JobReport{}) {
		t.Fatalf("before the escalation: %+v", rep)
	}
	// Escalation to boss at 96 h.
	at := t0.Add(96 * time.Hour)
	if rep := e.job(time.Hour); rep != (JobReport{Read: 1, Escalated: 1}) {
		t.Fatalf("escalation: %+v", rep)
	}
	got = e.get(r.ID)
	if got.ApproverID != "boss" || got.Level != 1 || got.Version != 3 || !got.AssignedAt.Equal(at) || !got.RemindedAt.IsZero() ||
		!got.DueAt.Equal(at.Add(24*time.Hour)) || got.State != PendingApproval {
		t.Fatalf("escalated %+v", got)
	}
	if step := got.History[1]; step != (Step{At: at, Action: ActEscalate, By: BySystem, From: PendingApproval, To: PendingApproval, Approver: "boss", FromApprover: "head"}) {
		t.Fatalf("escalation step %+v", step)
	}
	wantSent(t, "escalation", e.store.staged()[2:], "boss@mail.test request_submitted")
	// head decides no more; boss does.
	e.refused("the former approver", r.ID, domain.CodeNotAssigned, func() error { return e.approve(employee("head"), r.ID) })

	// A long silence: the reminder and the escalation to the director in
	// one run; the director's reminder is due a day later.
	rep := e.job(1000 * time.Hour)
	if rep != (JobReport{Read: 2, Reminded: 1, Escalated: 1}) {
		t.Fatalf("long silence: %+v", rep)
	}
	now := e.clock.Now()
	got = e.get(r.ID)
	if got.ApproverID != "dir" || got.Level != 2 || !got.DueAt.Equal(now.Add(24*time.Hour)) || got.Version != 5 || len(got.History) != 3 {
		t.Fatalf("at the top %+v", got)
	}
	// At the top: reminded, and nothing due after that.
	if rep := e.job(1000 * time.Hour); rep != (JobReport{Read: 1, Reminded: 1}) {
		t.Fatalf("reminder at the top: %+v", rep)
	}
	if got = e.get(r.ID); !got.DueAt.IsZero() || got.Version != 6 || got.ApproverID != "dir" {
		t.Fatalf("reminded at the top %+v", got)
	}
	if rep := e.job(1000 * time.Hour); rep != (JobReport{}) {
		t.Fatalf("after the top: %+v", rep)
	}
	wantSent(t, "up to the top", e.store.staged()[3:], "boss@mail.test request_submitted", "dir@mail.test request_submitted", "dir@mail.test request_submitted")
	if err := e.approve(employee("dir"), r.ID); err != nil {
		t.Fatal(err)
	}
	if v := e.store.versionViolations(); len(v) != 0 {
		t.Fatal(v)
	}
}

// Many due requests, more than a page of the job: all are handled.
func TestRunJobPages(t *testing.T) {
	e := newEnv(t)
	var ids []string
	for i := 0; i < 10; i++ {
		ids = append(ids, e.submit(employee("emp"), vacationInput(30, 1)).ID)
	}
	d := e.submit(employee("emp"), vacationInput(30, 1))
	if err := e.approve(employee("head"), d.ID); err != nil {
		t.Fatal(err)
	}
	rep := e.job(25 * time.Hour)
	if rep.Reminded != 10 || rep.Escalated != 0 {
		t.Fatalf("report %+v", rep)
	}
	for _, id := range ids {
		if e.get(id).RemindedAt.IsZero() {
			t.Fatalf("%s not reminded", id)
		}
	}
	if e.get(d.ID).Version != 2 {
		t.Fatal("the job touched a decided request")
	}
}

// Escalation past an approver who left: to the next one up.
func TestRunJobSkipsUnpublished(t *testing.T) {
	e := newEnv(t)
	r := e.submit(employee("emp"), vacationInput(30, 5))
	e.job(24 * time.Hour)
	e.store.setPublished(org, "boss", false)
	e.job(72 * time.Hour)
	if got := e.get(r.ID); got.ApproverID != "dir" || got.Level != 1 {
		t.Fatalf("escalated to %+v", got)
	}
}

// Escalation when the chain emptied since the reminder: to nobody, and the
// responsible person decides.
func TestRunJobEscalatesToNobody(t *testing.T) {
	e := newEnv(t)
	r := e.submit(employee("emp"), vacationInput(30, 5))
	e.job(24 * time.Hour)
	e.store.setPublished(org, "head", false)
	e.store.setPublished(org, "boss", false)
	e.store.setDirector(org, "")
	if rep := e.job(72 * time.Hour); rep != (JobReport{Read: 1, Escalated: 1}) {
		t.Fatalf("report %+v", rep)
	}
	got := e.get(r.ID)
	last := got.History[len(got.History)-1]
	if got.State != NoApprover || got.ApproverID != "" || !got.DueAt.IsZero() || last.Action != ActEscalate ||
		last.From != PendingApproval || last.To != NoApprover || last.FromApprover != "head" {
		t.Fatalf("escalated into nothing: %+v", got)
	}
	wantSent(t, "escalation to nobody", e.store.staged()[2:], "rp@mail.test request_submitted")
	if err := e.approve(responsible, r.ID); err != nil {
		t.Fatal(err)
	}
}

// A request whose chain emptied before its reminder stays with its
// approver: the reminder counts as at the top.
func TestRunJobReminderWithEmptyChain(t *testing.T) {
	e := newEnv(t)
	r := e.submit(employee("boss2"), vacationInput(30, 5)) // boss2 → boss → dir
	e.store.setPublished(org, "boss", false)
	e.store.setDirector(org, "")
	e.job(24 * time.Hour)
	if got := e.get(r.ID); got.State != PendingApproval || got.ApproverID != "boss" || !got.DueAt.IsZero() {
		t.Fatalf("reminded %+v", got)
	}
}

func TestReroute(t *testing.T) {
	e := newEnv(t)
	r := e.submit(employee("emp"), vacationInput(30, 5))
	n := e.submit(employee("dir"), vacationInput(30, 5))
	done := e.submit(employee("emp"), vacationInput(30, 5))
	if err := e.approve(employee("head"), done.ID); err != nil {
		t.Fatal(err)
	}

	// Nothing changed: nothing written.
	rep, err := e.svc.Reroute(e.ctx, org)
	if err != nil || rep != (RerouteReport{Read: 2}) || e.get(r.ID).Version != 1 {
		t.Fatalf("reroute without change: %+v, %v", rep, err)
	}

	// A new head of sales.
	e.clock.Advance(time.Hour)
	e.store.putDept(org, Department{ID: "sales", ParentID: "root", HeadID: "head2"})
	staged := len(e.store.staged())
	if rep, err = e.svc.Reroute(e.ctx, org); err != nil || rep.Rerouted != 1 {
		t.Fatalf("new head: %+v, %v", rep, err)
	}
	got := e.get(r.ID)
	if got.ApproverID != "head2" || got.Version != 2 || !got.AssignedAt.Equal(t0.Add(time.Hour)) ||
		got.History[1] != (Step{At: t0.Add(time.Hour), Action: ActReroute, By: BySystem, From: PendingApproval, To: PendingApproval, Approver: "head2", FromApprover: "head"}) {
		t.Fatalf("rerouted %+v", got)
	}
	wantSent(t, "reroute", e.store.staged()[staged:], "head2@mail.test request_submitted")
	e.refused("the old head", r.ID, domain.CodeNotAssigned, func() error { return e.approve(employee("head"), r.ID) })

	// The employee moves to ops: boss2 approves, the department follows.
	e.store.moveEmployee(org, "emp", "ops")
	if _, err := e.svc.Reroute(e.ctx, org); err != nil {
		t.Fatal(err)
	}
	if got = e.get(r.ID); got.ApproverID != "boss2" || got.DepartmentID != "ops" || got.Version != 3 {
		t.Fatalf("moved %+v", got)
	}
	// Same approver, another department: only the department changes.
	e.store.putDept(org, Department{ID: "ops2", ParentID: "root", HeadID: "boss2"})
	e.store.moveEmployee(org, "emp", "ops2")
	staged = len(e.store.staged())
	if _, err := e.svc.Reroute(e.ctx, org); err != nil {
		t.Fatal(err)
	}
	if got = e.get(r.ID); got.ApproverID != "boss2" || got.DepartmentID != "ops2" || got.Version != 4 || len(got.History) != 3 ||
		len(e.store.staged()) != staged {
		t.Fatalf("department only %+v", got)
	}

	// A director for the director's request: the responsible person no longer decides it.
	e.store.setDirector(org, "dir2")
	if _, err := e.svc.Reroute(e.ctx, org); err != nil {
		t.Fatal(err)
	}
	got = e.get(n.ID)
	if got.State != PendingApproval || got.ApproverID != "dir2" || got.History[1].From != NoApprover || got.History[1].FromApprover != "" || got.DueAt.IsZero() {
		t.Fatalf("no approver rerouted %+v", got)
	}
	e.refused("responsible person after the reroute", n.ID, domain.CodeNotAssigned, func() error { return e.approve(responsible, n.ID) })

	// Everyone above unpublished: back to nobody.
	e.store.setPublished(org, "dir2", false)
	if _, err := e.svc.Reroute(e.ctx, org); err != nil {
		t.Fatal(err)
	}
	if got = e.get(n.ID); got.State != NoApprover || got.ApproverID != "" || !got.DueAt.IsZero() || got.History[2].To != NoApprover {
		t.Fatalf("rerouted to nobody %+v", got)
	}
	if got := e.get(done.ID); got.Version != 2 {
		t.Fatal("reroute touched a decided request")
	}
	// An employee who left keeps their department.
	e.store.setPublished(org, "emp", false)
	e.store.putDept(org, Department{ID: "ops2", ParentID: "root", HeadID: "boss"})
	if _, err := e.svc.Reroute(e.ctx, org); err != nil {
		t.Fatal(err)
	}
	if got = e.get(r.ID); got.DepartmentID != "ops2" || got.ApproverID != "boss" {
		t.Fatalf("unpublished employee's request %+v", got)
	}
	if v := e.store.versionViolations(); len(v) != 0 {
		t.Fatal(v)
	}
}

// A request reminded at the top of its chain waits for nothing more; when
// the chain grows above its approver (a director published), re-routing
// puts the escalation back on.
func TestRerouteChainGrowsAboveApprover(t *testing.T) {
	e := newEnv(t)
	e.store.setDirector(org, "")
	r := e.submit(employee("emp"), vacationInput(30, 5)) // head → boss
	e.job(24 * time.Hour)
	e.job(72 * time.Hour)
	e.job(24 * time.Hour) // boss reminded at the top
	if got := e.get(r.ID); got.ApproverID != "boss" || !got.DueAt.IsZero() || got.RemindedAt.IsZero() {
		t.Fatalf("at the top %+v", got)
	}
	e.store.setDirector(org, "dir")
	if rep, err := e.svc.Reroute(e.ctx, org); err != nil || rep.Rerouted != 1 {
		t.Fatalf("reroute %+v, %v", rep, err)
	}
	got := e.get(r.ID)
	if got.ApproverID != "boss" || got.DueAt.IsZero() || len(got.History) != 2 {
		t.Fatalf("after the director came %+v", got)
	}
	e.job(72 * time.Hour)
	if got := e.get(r.ID); got.ApproverID != "dir" || got.Level != 2 {
		t.Fatalf("not escalated to the new director: %+v", got)
	}
}

// Reroute keeps the level an escalation reached.
func TestRerouteKeepsLevel(t *testing.T) {
	e := newEnv(t)
	r := e.submit(employee("emp"), vacationInput(30, 5))
	e.job(24 * time.Hour)
	e.job(72 * time.Hour) // → boss, level 1
	e.store.putDept(org, Department{ID: "root", HeadID: "boss2"})
	if _, err := e.svc.Reroute(e.ctx, org); err != nil {
		t.Fatal(err)
	}
	if got := e.get(r.ID); got.ApproverID != "boss2" || got.Level != 1 {
		t.Fatalf("rerouted %+v", got)
	}
}

// Quiet hours hold a message: staged, not queued now. A failing queue
// loses nothing: the message is staged with its step.
func TestMessagesHeldOrQueueFailing(t *testing.T) {
	e := newEnv(t)
	e.store.putPrefs(notify.Preferences{OrganizationID: org, QuietHours: &notify.QuietHours{Start: "08:00", End: "10:00", TimeZone: "Europe/Moscow"}})
	e.submit(employee("emp"), vacationInput(14, 5))
	if m := e.store.staged(); len(m) != 1 || m[0].NotBefore.IsZero() || len(e.queue.All()) != 0 {
		t.Fatalf("held message: staged %+v, queued %d", m, len(e.queue.All()))
	}
	e.store.putPrefs(notify.DefaultPreferences(org))
	e.queue.Fail = errors.New("queue down")
	r := e.submit(employee("emp"), vacationInput(14, 5))
	if len(e.store.staged()) != 2 || len(e.queue.All()) != 0 || e.get(r.ID).State != PendingApproval {
		t.Fatal("a failing queue failed the step")
	}
	// Without a queue (publication's re-routing) the messages are staged only.
	e.svc.Requests.Queue = nil
	if err := e.approve(employee("head"), r.ID); err != nil {
		t.Fatal(err)
	}
	if len(e.store.staged()) != 4 {
		t.Fatalf("%d staged without a queue", len(e.store.staged()))
	}
}

// Someone without an active cabinet is not told: the step goes on.
func TestNoContact(t *testing.T) {
	e := newEnv(t)
	delete(e.store.contacts, k(org, "head"))
	r := e.submit(employee("emp"), vacationInput(14, 5))
	if len(e.store.staged()) != 0 || r.State != PendingApproval {
		t.Fatalf("without a cabinet %+v", e.store.staged())
	}
}

func TestActorOf(t *testing.T) {
	e := newEnv(t)
	e.store.putPerson(domain.Person{ID: "p1", OrganizationID: org, Role: domain.RoleEmployee, EmployeeID: "emp", FullName: "Э"})
	e.store.putPerson(domain.Person{ID: "p2", OrganizationID: org, Role: domain.RoleEmployee, EmployeeID: "head", Disabled: true})
	e.store.putPerson(domain.Person{ID: "p3", OrganizationID: org, Role: domain.RoleResponsiblePerson, FullName: "О"})
	a, err := e.svc.ActorOf(e.ctx, org, "p1", domain.RoleEmployee)
	if err != nil || a != (Actor{OrganizationID: org, PersonID: "p1", EmployeeID: "emp", Role: domain.RoleEmployee, Name: "Э"}) {
		t.Fatalf("actor %+v, %v", a, err)
	}
	if a, err := e.svc.ActorOf(e.ctx, org, "p3", domain.RoleResponsiblePerson); err != nil || a.Who() != ByResponsible {
		t.Fatalf("responsible %+v, %v", a, err)
	}
	wantCode(t, "disabled", func() error { _, err := e.svc.ActorOf(e.ctx, org, "p2", domain.RoleEmployee); return err }(), domain.CodeForbidden)
	wantCode(t, "wrong role", func() error { _, err := e.svc.ActorOf(e.ctx, org, "p1", domain.RoleResponsiblePerson); return err }(), domain.CodeForbidden)
	wantCode(t, "absent", func() error { _, err := e.svc.ActorOf(e.ctx, org, "p9", domain.RoleEmployee); return err }(), domain.CodeUnauthorized)
}

// The job clears what it finds nothing to do on: a request no longer
// pending (a stale index entry), one whose approver became the top of a
// shrunken chain.
func TestRunJobClears(t *testing.T) {
	e := newEnv(t)
	stale := Request{ID: "R900000", OrganizationID: org, Number: 90, Type: TypeVacation, EmployeeID: "emp", State: ToProcess,
		Version: 2, NeedsApproval: true, Approved: true, ProcessorIsResponsible: true, DueAt: t0.Add(time.Hour),
		History: []Step{{Action: ActSubmit, To: PendingApproval}, {Action: ActApprove, From: PendingApproval, To: ToProcess}}}
	e.store.putRequest(stale)
	r := e.submit(employee("emp"), vacationInput(30, 5))
	e.job(24 * time.Hour) // r reminded; stale cleared
	got := e.get(stale.ID)
	if !got.DueAt.IsZero() || got.Version != 3 || got.State != ToProcess || len(got.History) != 2 {
		t.Fatalf("stale entry %+v", got)
	}
	e.store.setPublished(org, "boss", false)
	e.store.setDirector(org, "")
	staged := len(e.store.staged())
	if rep := e.job(72 * time.Hour); rep != (JobReport{Read: 1, Cleared: 1}) {
		t.Fatalf("report %+v", rep)
	}
	got = e.get(r.ID)
	if got.ApproverID != "head" || !got.DueAt.IsZero() || got.Version != 3 || len(got.History) != 1 || len(e.store.staged()) != staged {
		t.Fatalf("at the top of a shrunken chain %+v", got)
	}
	if v := e.store.versionViolations(); len(v) != 0 {
		t.Fatal(v)
	}
}

func TestSettings(t *testing.T) {
	e := newEnv(t)
	types, err := e.svc.TypesFor(e.ctx, org)
	if err != nil || len(types) != len(Types) || types[0].Type != TypeVacation || !types[0].NeedsApproval || len(types[0].Fields) == 0 {
		t.Fatalf("types %+v, %v", types, err)
	}
	hours := 48
	st, err := e.svc.UpdateSettings(e.ctx, org, SettingsInput{
		Types:            map[string]TypeSetting{string(TypeFreeForm): {Enabled: false}},
		RemindAfterHours: &hours,
	})
	if err != nil || st.Version != 1 || st.RemindAfterHours != 48 || st.EscalateAfterHours != DefaultEscalateAfterHours ||
		st.Types[TypeFreeForm].Enabled || len(st.Types) != len(Types) {
		t.Fatalf("settings %+v, %v", st, err)
	}
	if types, _ := e.svc.TypesFor(e.ctx, org); len(types) != len(Types)-1 {
		t.Fatalf("a disabled type is offered: %+v", types)
	}
	zero, tooMany := 0, maxHours+1
	for name, in := range map[string]SettingsInput{
		"unknown type":            {Types: map[string]TypeSetting{"vacation": {}}},
		"unknown processing type": {Processing: map[string]*Rule{"vacation": {}}},
		"zero hours":              {RemindAfterHours: &zero},
		"too many hours":          {EscalateAfterHours: &tooMany},
		"unpublished processor":   {Processing: map[string]*Rule{string(TypeVacation): {ProcessorID: "ghost"}}},
		"bad department id":       {Processing: map[string]*Rule{string(TypeVacation): {Departments: map[string]string{"a\x00": "proc"}}}},
	} {
		if _, err := e.svc.UpdateSettings(e.ctx, org, in); codeOf(err) != domain.CodeValidationFailed {
			t.Errorf("%s: %v", name, err)
		}
	}
	if st, _ := e.svc.SettingsOf(e.ctx, org); st.Version != 1 || st.RemindAfterHours != 48 {
		t.Fatalf("a refused change changed the settings: %+v", st)
	}
	// The escalation follows the settings.
	r := e.submit(employee("emp"), vacationInput(30, 5))
	if got := e.get(r.ID); !got.DueAt.Equal(t0.Add(48 * time.Hour)) {
		t.Fatalf("due %v", got.DueAt)
	}
	// Removing a rule hands the type back to the responsible person.
	if _, err := e.svc.UpdateSettings(e.ctx, org, SettingsInput{Processing: map[string]*Rule{string(TypeVacation): {ProcessorID: "proc"}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.UpdateSettings(e.ctx, org, SettingsInput{Processing: map[string]*Rule{string(TypeVacation): nil}}); err != nil {
		t.Fatal(err)
	}
	if st, _ := e.svc.SettingsOf(e.ctx, org); st.ProcessorFor(TypeVacation, "sales") != "" || st.Version != 3 {
		t.Fatalf("settings %+v", st)
	}
}

// Two runs of the job at once remind each approver once.
func TestRunJobConcurrently(t *testing.T) {
	e := newEnv(t)
	for i := 0; i < 12; i++ {
		e.submit(employee(pick2(i, "emp", "head", "other")), vacationInput(30, 1))
	}
	staged := len(e.store.staged())
	e.clock.Advance(25 * time.Hour)
	reps := make([]JobReport, 3)
	var wg sync.WaitGroup
	for i := range reps {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rep, err := e.svc.RunJob(e.ctx, time.Now().Add(10*time.Second))
			if err != nil {
				t.Error(err)
			}
			reps[i] = rep
		}()
	}
	wg.Wait()
	reminded := 0
	for _, rep := range reps {
		reminded += rep.Reminded
	}
	reminders := e.store.staged()[staged:]
	ids := map[string]bool{}
	for _, m := range reminders {
		ids[m.ID] = true
	}
	if reminded != 12 || len(reminders) != 12 || len(ids) != 12 {
		t.Fatalf("%d reminded, %d reminders staged (%d distinct); reports %+v", reminded, len(reminders), len(ids), reps)
	}
	if v := e.store.versionViolations(); len(v) != 0 {
		t.Fatal(v)
	}
}

func pick2(i int, xs ...string) string { return xs[i%len(xs)] }

package acceptance_test

import (
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kabinet/kabinet/shared/domain"
	"github.com/kabinet/kabinet/shared/publication"
	"github.com/kabinet/kabinet/shared/requests"
)

// A vacation goes to the head of the employee's department, is approved,
// handed to the responsible person (no rule), taken and completed; every
// step is in the history and every person concerned is notified.
func TestVacationApprovedProcessedAndNotified(t *testing.T) {
	f := newFixture(t)
	f.activate(t, "A")
	f.activate(t, "H1")
	v := f.submit(t, f.emp("A"), "annual_vacation", f.vacation())
	if v.State != requests.PendingApproval || v.ApproverID != f.id("H1") || v.Number < 1 {
		t.Fatalf("submitted: %+v", v)
	}
	if v.Fields.EndDate == "" || v.Fields.Days != 14 {
		t.Fatalf("end date not derived from days: %+v", v.Fields)
	}
	if _, err := f.req.Decide(ctx, f.emp("H1"), v.ID, true, requests.DecisionInput{Comment: "Хорошего отдыха"}); err != nil {
		t.Fatal(err)
	}
	r := f.get(t, v.ID)
	if r.State != requests.ToProcess || !r.Approved || !r.ProcessorIsResponsible {
		t.Fatalf("after approval: %+v", r)
	}
	page, err := f.req.Processing(ctx, f.rp, 10, "")
	if err != nil || len(page.Items) != 1 || page.Items[0].ID != v.ID {
		t.Fatalf("processing inbox: %+v %v", page, err)
	}
	if _, err := f.req.Process(ctx, f.rp, v.ID, requests.ActTake, requests.ProcessInput{}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.req.Process(ctx, f.rp, v.ID, requests.ActComplete, requests.ProcessInput{Comment: "Приказ № 12-о"}); err != nil {
		t.Fatal(err)
	}
	r = f.get(t, v.ID)
	want := []string{"submit:" + f.id("A"), "approve:" + f.id("H1"), "take:responsible_person", "complete:responsible_person"}
	if strings.Join(actions(r), " ") != strings.Join(want, " ") || r.State != requests.Completed || r.Version != 4 {
		t.Fatalf("history %v (version %d, state %s), want %v", actions(r), r.Version, r.State, want)
	}
	if page, _ := f.req.Processing(ctx, f.rp, 10, ""); len(page.Items) != 0 {
		t.Fatalf("a completed request stays in the processing inbox: %+v", page)
	}
	got := strings.Join(f.kinds(v.ID), " ")
	for _, k := range []string{"request_submitted>" + f.phone("H1"), "request_approved>" + f.phone("A"),
		"request_in_work>" + f.phone("A"), "request_completed>" + f.phone("A")} {
		if !strings.Contains(got, k) {
			t.Errorf("no %s among %s", k, got)
		}
	}
	if !strings.Contains(got, "work_assigned>") {
		t.Errorf("the responsible person was not told of the work: %s", got)
	}
	for _, m := range f.queue.All() {
		if strings.HasPrefix(m.ID, v.ID+".") && !strings.Contains(m.Text, "https://lk.example.ru/requests/"+v.ID) {
			t.Errorf("message %s has no link to the request: %q", m.ID, m.Text)
		}
	}
	mine, err := f.req.Mine(ctx, f.emp("A"), 10, "")
	if err != nil || len(mine.Items) != 1 || mine.Items[0].State != requests.Completed {
		t.Fatalf("employee's list: %+v %v", mine, err)
	}
}

// A rejection needs a reason, reaches the employee with it, and is final.
func TestRejectWithReason(t *testing.T) {
	f := newFixture(t)
	f.activate(t, "A")
	v := f.submit(t, f.emp("A"), "annual_vacation", f.vacation())
	_, err := f.req.Decide(ctx, f.emp("H1"), v.ID, false, requests.DecisionInput{Reason: "  "})
	wantCode(t, err, domain.CodeValidationFailed)
	if _, err := f.req.Decide(ctx, f.emp("H1"), v.ID, false, requests.DecisionInput{Reason: "Пересекается с отчётным периодом"}); err != nil {
		t.Fatal(err)
	}
	var text string
	for _, m := range f.queue.To(f.phone("A")) {
		if string(m.Kind) == "request_rejected" {
			text = m.Text
		}
	}
	if !strings.Contains(text, "Пересекается с отчётным периодом") {
		t.Fatalf("rejection message without the reason: %q", text)
	}
	// Deciding an already decided request: 409, and nothing changes.
	before := f.get(t, v.ID)
	_, err = f.req.Decide(ctx, f.emp("H1"), v.ID, true, requests.DecisionInput{})
	wantCode(t, err, domain.CodeRequestState)
	_, err = f.req.Cancel(ctx, f.emp("A"), v.ID)
	wantCode(t, err, domain.CodeRequestState)
	if after := f.get(t, v.ID); after.Version != before.Version || after.State != requests.Rejected {
		t.Fatalf("a refused action changed the request: %+v", after)
	}
}

// A certificate needs no approval: it goes straight to the processor the
// rules name, who takes and completes it; a processor of another
// organization cannot see or touch it.
func TestCertificateStraightToProcessorAndOtherTenant(t *testing.T) {
	f := newFixture(t)
	if _, err := f.req.UpdateSettings(ctx, f.org, requests.SettingsInput{Processing: map[string]*requests.Rule{
		"employment_certificate": {ProcessorID: f.id("P")}}}); err != nil {
		t.Fatal(err)
	}
	v := f.submit(t, f.emp("A"), "employment_certificate", map[string]any{"purpose": "по месту требования", "copies": 2})
	if v.State != requests.ToProcess || v.ProcessorID != f.id("P") || v.ApproverID != "" {
		t.Fatalf("certificate: %+v", v)
	}
	other := newFixture(t)
	stranger := other.emp("P")
	stranger.EmployeeID = f.id("P") // even with the same employee id
	_, err := f.req.Process(ctx, stranger, v.ID, requests.ActTake, requests.ProcessInput{})
	wantCode(t, err, domain.CodeNotFound)
	_, err = f.req.Get(ctx, other.rp, v.ID)
	wantCode(t, err, domain.CodeNotFound)
	// Someone of the same organization who is not the processor: refused.
	_, err = f.req.Process(ctx, f.emp("X"), v.ID, requests.ActTake, requests.ProcessInput{})
	wantCode(t, err, domain.CodeNotAssigned)
	if _, err := f.req.Process(ctx, f.emp("P"), v.ID, requests.ActTake, requests.ProcessInput{}); err != nil {
		t.Fatal(err)
	}
	_, err = f.req.Process(ctx, f.emp("P"), v.ID, requests.ActDecline, requests.ProcessInput{})
	wantCode(t, err, domain.CodeValidationFailed)
	if _, err := f.req.Process(ctx, f.emp("P"), v.ID, requests.ActComplete, requests.ProcessInput{Comment: "Готово"}); err != nil {
		t.Fatal(err)
	}
	if r := f.get(t, v.ID); r.State != requests.Completed || r.Approved {
		t.Fatalf("certificate at the end: %+v", r)
	}
}

// A head's own request goes up to the director; the director's own request
// has nobody to approve it and waits for the responsible person — never
// approved automatically, and never by the director themself.
func TestSelfApprovalImpossible(t *testing.T) {
	f := newFixture(t)
	h := f.submit(t, f.emp("H1"), "annual_vacation", f.vacation())
	if h.ApproverID != f.id("DIR") {
		t.Fatalf("head's request went to %q, want the director", h.ApproverID)
	}
	d := f.submit(t, f.emp("DIR"), "annual_vacation", f.vacation())
	if d.State != requests.NoApprover || d.ApproverID != "" {
		t.Fatalf("director's request: %+v", d)
	}
	c, buf := logged()
	_, err := f.req.Decide(c, f.emp("DIR"), d.ID, true, requests.DecisionInput{})
	wantCode(t, err, domain.CodeNotAssigned)
	if !strings.Contains(buf.String(), "request decision refused") {
		t.Fatalf("refusal not logged: %s", buf.String())
	}
	// Nor through a deputy naming themselves back: the director's deputy
	// cannot decide what has no approver.
	_, err = f.req.Decide(ctx, f.emp("H1"), d.ID, true, requests.DecisionInput{})
	wantCode(t, err, domain.CodeNotAssigned)
	inbox, err := f.req.Approvals(ctx, f.rp, 10, "")
	if err != nil || len(inbox.Items) != 1 || inbox.Items[0].ID != d.ID {
		t.Fatalf("responsible person's inbox: %+v %v", inbox, err)
	}
	if _, err := f.req.Decide(ctx, f.rp, d.ID, true, requests.DecisionInput{}); err != nil {
		t.Fatal(err)
	}
	// The director sees the head's request, but not as approver of their own.
	mine, _ := f.req.Approvals(ctx, f.emp("DIR"), 10, "")
	if len(mine.Items) != 1 || mine.Items[0].ID != h.ID {
		t.Fatalf("director's inbox: %+v", mine)
	}
}

// A manager of another department, or the employee, cannot decide; the
// refusal is logged and leaves the request as it was.
func TestUnassignedManagerRefusedAndLogged(t *testing.T) {
	f := newFixture(t)
	v := f.submit(t, f.emp("A"), "unpaid_leave", f.vacation())
	c, buf := logged()
	for _, who := range []string{"H2", "A", "X"} {
		_, err := f.req.Decide(c, f.emp(who), v.ID, true, requests.DecisionInput{})
		wantCode(t, err, domain.CodeNotAssigned)
	}
	if n := strings.Count(buf.String(), "request decision refused"); n != 3 {
		t.Fatalf("%d refusals logged, want 3: %s", n, buf.String())
	}
	if r := f.get(t, v.ID); r.Version != 1 || r.State != requests.PendingApproval {
		t.Fatalf("refused decisions changed the request: %+v", r)
	}
	_, err := f.req.Get(ctx, f.emp("H2"), v.ID)
	wantCode(t, err, domain.CodeNotFound)
}

// The manager, their deputy and a double click approve at once: exactly
// one decision is recorded, one hand-off made; the others get 409.
func TestConcurrentApprovalsOneDecision(t *testing.T) {
	f := newFixture(t)
	today := f.clock.Now().Format(time.DateOnly)
	if _, err := f.req.SetDeputy(ctx, f.emp("H1"), f.id("H1"), requests.DeputyInput{DeputyID: f.id("X"), From: today,
		To: f.clock.Now().AddDate(0, 0, 7).Format(time.DateOnly)}); err != nil {
		t.Fatal(err)
	}
	for round := 0; round < 3; round++ {
		v := f.submit(t, f.emp("A"), "annual_vacation", f.vacation())
		deciders := []requests.Actor{f.emp("H1"), f.emp("X"), f.emp("H1"), f.emp("X")}
		var wg sync.WaitGroup
		errs := make([]error, len(deciders))
		for i, who := range deciders {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, errs[i] = f.req.Decide(ctx, who, v.ID, i%2 == 0 || round == 0, requests.DecisionInput{Reason: "нет", Comment: "да"})
			}()
		}
		wg.Wait()
		ok := 0
		for _, err := range errs {
			if err == nil {
				ok++
				continue
			}
			if e, isDomain := domain.AsError(err); !isDomain || e.Code != domain.CodeRequestState {
				t.Fatalf("round %d: a losing decision failed with %v, want request_state_conflict", round, err)
			}
		}
		r := f.get(t, v.ID)
		decisions := 0
		for _, h := range r.History {
			if h.Action == requests.ActApprove || h.Action == requests.ActReject {
				decisions++
			}
		}
		if ok != 1 || decisions != 1 || r.Version != 2 {
			t.Fatalf("round %d: %d succeeded, %d decisions recorded, version %d", round, ok, decisions, r.Version)
		}
		handOffs := 0
		for _, k := range f.kinds(v.ID) {
			if strings.HasPrefix(k, "work_assigned>") {
				handOffs++
			}
		}
		if (r.State == requests.ToProcess) != (handOffs == 1) || handOffs > 1 {
			t.Fatalf("round %d: state %s with %d hand-offs", round, r.State, handOffs)
		}
	}
}

// A deputy in office decides on the manager's behalf (so the history
// says); the deputy's own deputy does not get the manager's approvals.
func TestDeputyOnBehalfAndNoFurtherDelegation(t *testing.T) {
	f := newFixture(t)
	today, week := f.clock.Now().Format(time.DateOnly), f.clock.Now().AddDate(0, 0, 7).Format(time.DateOnly)
	if _, err := f.req.SetDeputy(ctx, f.rp, f.id("H1"), requests.DeputyInput{DeputyID: f.id("X"), From: today, To: week}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.req.SetDeputy(ctx, f.emp("X"), f.id("X"), requests.DeputyInput{DeputyID: f.id("Y"), From: today, To: week}); err != nil {
		t.Fatal(err)
	}
	_, err := f.req.SetDeputy(ctx, f.emp("A"), f.id("H1"), requests.DeputyInput{DeputyID: f.id("A"), From: today, To: week})
	wantCode(t, err, domain.CodeForbidden)
	v := f.submit(t, f.emp("A"), "business_trip", map[string]any{"startDate": f.vacation()["startDate"],
		"endDate": f.clock.Now().AddDate(0, 0, 9).Format(time.DateOnly), "place": "Казань", "purpose": "Монтаж"})
	if inbox, _ := f.req.Approvals(ctx, f.emp("Y"), 10, ""); len(inbox.Items) != 0 {
		t.Fatalf("the deputy's deputy sees the manager's approvals: %+v", inbox)
	}
	_, err = f.req.Decide(ctx, f.emp("Y"), v.ID, true, requests.DecisionInput{})
	wantCode(t, err, domain.CodeNotAssigned)
	inbox, _ := f.req.Approvals(ctx, f.emp("X"), 10, "")
	if len(inbox.Items) != 1 || inbox.Items[0].ID != v.ID {
		t.Fatalf("deputy's inbox: %+v", inbox)
	}
	d, err := f.req.Get(ctx, f.emp("X"), v.ID)
	if err != nil {
		t.Fatal(err)
	}
	_ = d
	if _, err := f.req.Decide(ctx, f.emp("X"), v.ID, true, requests.DecisionInput{}); err != nil {
		t.Fatal(err)
	}
	last := f.get(t, v.ID).History[1]
	if last.By != f.id("X") || last.OnBehalfOf != f.id("H1") {
		t.Fatalf("decision step: %+v", last)
	}
	// Outside the dates the deputy acts no more.
	v2 := f.submit(t, f.emp("A"), "annual_vacation", f.vacation())
	f.clock.Advance(9 * 24 * time.Hour)
	_, err = f.req.Decide(ctx, f.emp("X"), v2.ID, true, requests.DecisionInput{})
	wantCode(t, err, domain.CodeNotAssigned)
}

// Publication names a new head while a request is pending: the old head
// can no longer decide it, the new one can; a moved employee's request
// follows them; an unpublished approver's requests go up.
func TestPublicationReroutesPendingApprovals(t *testing.T) {
	f := newFixture(t)
	f.activate(t, "X")
	a := f.submit(t, f.emp("A"), "annual_vacation", f.vacation())
	b := f.submit(t, f.emp("B"), "annual_vacation", f.vacation())

	f.publish(t, publication.Batch{Departments: []publication.DepartmentRow{f.deptRow("D1", "ROOT", "X")}})
	r := f.get(t, a.ID)
	if r.ApproverID != f.id("X") || r.History[len(r.History)-1].Action != requests.ActReroute {
		t.Fatalf("after the new head: approver %q, history %v", r.ApproverID, actions(r))
	}
	if !strings.Contains(strings.Join(f.kinds(a.ID), " "), "request_submitted>"+f.phone("X")) {
		t.Fatalf("the new head was not told: %v", f.kinds(a.ID))
	}
	_, err := f.req.Decide(ctx, f.emp("H1"), a.ID, true, requests.DecisionInput{})
	wantCode(t, err, domain.CodeNotAssigned)

	// B moves to D1: their request goes to D1's head now.
	row := f.empRow("B", "D1")
	f.publish(t, publication.Batch{Employees: []publication.EmployeeRow{row}})
	if r := f.get(t, b.ID); r.ApproverID != f.id("X") || r.DepartmentID != f.id("D1") {
		t.Fatalf("moved employee's request: approver %q department %q", r.ApproverID, r.DepartmentID)
	}
	// The new head is unpublished by a snapshot that leaves them out: the
	// requests go up to the director.
	snap, err := f.pub.BeginSnapshot(ctx, f.org)
	if err != nil {
		t.Fatal(err)
	}
	var emps []publication.EmployeeRow
	for _, n := range []string{"DIR", "H1", "H2", "A", "P", "Y"} {
		emps = append(emps, f.empRow(n, map[bool]string{true: "D2", false: "D1"}[n == "H2"]))
	}
	emps[0].DepartmentID = str(f.id("ROOT"))
	emps = append(emps, row)
	if _, err := f.pub.AddChunk(ctx, f.org, snap.ID, publication.Batch{Employees: emps,
		Departments: []publication.DepartmentRow{f.deptRow("ROOT", "", "DIR"), f.deptRow("D1", "ROOT", ""), f.deptRow("D2", "ROOT", "H2")},
		Director:    &publication.DirectorRow{EmployeeID: f.id("DIR"), Version: f.version()}}, time.Now().Add(20*time.Second)); err != nil {
		t.Fatal(err)
	}
	if _, err := f.pub.Commit(ctx, f.org, snap.ID); err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{a.ID, b.ID} {
		if r := f.get(t, id); r.ApproverID != f.id("DIR") {
			t.Fatalf("after the head left: approver %q, history %v", r.ApproverID, actions(r))
		}
	}
	_, err = f.req.Decide(ctx, f.emp("X"), a.ID, true, requests.DecisionInput{})
	wantCode(t, err, domain.CodeNotAssigned)
	if _, err := f.req.Decide(ctx, f.emp("DIR"), a.ID, true, requests.DecisionInput{}); err != nil {
		t.Fatal(err)
	}
}

// Nobody acts: the approver is reminded after the configured time, and
// after a further time the request goes one level up, recorded in the
// history; at the director it stays.
func TestEscalationWithClock(t *testing.T) {
	f := newFixture(t)
	f.activate(t, "H1")
	f.activate(t, "DIR")
	remind, escalate := 4, 10
	if _, err := f.req.UpdateSettings(ctx, f.org, requests.SettingsInput{RemindAfterHours: &remind, EscalateAfterHours: &escalate}); err != nil {
		t.Fatal(err)
	}
	v := f.submit(t, f.emp("A"), "annual_vacation", f.vacation())
	run := func() {
		t.Helper()
		if _, err := f.req.RunJob(ctx, time.Now().Add(20*time.Second)); err != nil {
			t.Fatal(err)
		}
	}
	// The job runs across organizations: judge it by this request.
	f.clock.Advance(3 * time.Hour)
	run()
	if r := f.get(t, v.ID); r.Version != 1 || !r.RemindedAt.IsZero() {
		t.Fatalf("too early: %+v", r)
	}
	f.clock.Advance(90 * time.Minute)
	run()
	if r := f.get(t, v.ID); r.RemindedAt.IsZero() || r.ApproverID != f.id("H1") || len(r.History) != 1 {
		t.Fatalf("no reminder, or more: %+v", r)
	}
	reminders := func(name string) int {
		n := 0
		for _, m := range f.queue.To(f.phone(name)) {
			if strings.HasPrefix(m.ID, v.ID+".") && strings.HasPrefix(m.Text, "Напоминание") {
				n++
			}
		}
		return n
	}
	if n := reminders("H1"); n != 1 {
		t.Fatalf("%d reminders to the head", n)
	}
	version := f.get(t, v.ID).Version
	run()
	if r := f.get(t, v.ID); r.Version != version || reminders("H1") != 1 {
		t.Fatalf("a second run repeated the work: %+v", r)
	}
	f.clock.Advance(10 * time.Hour)
	run()
	r := f.get(t, v.ID)
	last := r.History[len(r.History)-1]
	if r.ApproverID != f.id("DIR") || last.Action != requests.ActEscalate || last.FromApprover != f.id("H1") || last.By != requests.BySystem {
		t.Fatalf("after escalation: approver %q, last step %+v", r.ApproverID, last)
	}
	_, err := f.req.Decide(ctx, f.emp("H1"), v.ID, true, requests.DecisionInput{})
	wantCode(t, err, domain.CodeNotAssigned)
	// At the top: reminded once more, then left with the director.
	f.clock.Advance(5 * time.Hour)
	run()
	f.clock.Advance(30 * time.Hour)
	run()
	if r := f.get(t, v.ID); r.ApproverID != f.id("DIR") || !r.DueAt.IsZero() || r.State != requests.PendingApproval {
		t.Fatalf("at the top: %+v", r)
	}
	if n := reminders("DIR"); n != 1 {
		t.Fatalf("%d reminders to the director", n)
	}
	if _, err := f.req.Decide(ctx, f.emp("DIR"), v.ID, true, requests.DecisionInput{}); err != nil {
		t.Fatal(err)
	}
}

// The employee cancels before a decision, not after; only their own.
func TestCancel(t *testing.T) {
	f := newFixture(t)
	v := f.submit(t, f.emp("A"), "annual_vacation", f.vacation())
	_, err := f.req.Cancel(ctx, f.emp("X"), v.ID)
	wantCode(t, err, domain.CodeNotFound)
	if _, err := f.req.Cancel(ctx, f.emp("A"), v.ID); err != nil {
		t.Fatal(err)
	}
	if inbox, _ := f.req.Approvals(ctx, f.emp("H1"), 10, ""); len(inbox.Items) != 0 {
		t.Fatalf("a cancelled request is still to approve: %+v", inbox)
	}
	_, err = f.req.Decide(ctx, f.emp("H1"), v.ID, true, requests.DecisionInput{})
	wantCode(t, err, domain.CodeRequestState)
	_, err = f.req.Get(ctx, f.emp("A"), "01NOSUCHREQUEST")
	if !errors.Is(err, domain.ErrNotFound) {
		wantCode(t, err, domain.CodeNotFound)
	}
}

// A head dismissed by publication approves nothing more: their pending
// approvals go up, and new requests skip them.
func TestDismissedHeadSkipped(t *testing.T) {
	f := newFixture(t)
	v := f.submit(t, f.emp("A"), "annual_vacation", f.vacation())
	row := f.empRow("H1", "D1")
	row.HireDate = str("2020-01-10")
	row.DismissalDate = str(f.clock.Now().AddDate(0, 0, -1).Format(time.DateOnly))
	f.publish(t, publication.Batch{Employees: []publication.EmployeeRow{row}})
	if r := f.get(t, v.ID); r.ApproverID != f.id("DIR") {
		t.Fatalf("after the head's dismissal: approver %q", r.ApproverID)
	}
	_, err := f.req.Decide(ctx, f.emp("H1"), v.ID, true, requests.DecisionInput{})
	wantCode(t, err, domain.CodeNotAssigned)
	if w := f.submit(t, f.emp("X"), "free_form", map[string]any{"subject": "Пропуск", "text": "Прошу выдать пропуск"}); w.ApproverID != f.id("DIR") {
		t.Fatalf("new request went to %q", w.ApproverID)
	}
}

package requests

import (
	"fmt"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/kabinet/kabinet/shared/domain"
)

// The state machine under random sequences of actions by random people:
// after every step, whatever happened,
//
//   - at most one approval or rejection is in the history, and nobody
//     approves or rejects their own request;
//   - a final state absorbs: nothing changes any more, every later action
//     fails with request_state_conflict or not_assigned (not_found for
//     somebody else's cancel) and stages nothing;
//   - a request carried out (to_process, in_work, completed) that needed
//     approval was approved;
//   - a refused action changes nothing and stages no message;
//   - each write grows the version by exactly one, and a person's step
//     records exactly one history step, following the transition table;
//   - an action is allowed exactly when its rules say so (the actor's role,
//     the state, the deputy's days);
//   - after the escalation job nothing due is left; after re-routing an
//     awaiting request is with the approver the structure names.
func TestStateMachineProperties(t *testing.T) {
	sequences, steps := 500, 30
	if testing.Short() {
		sequences = 60
	}
	for seed := range uint64(sequences) {
		runSequence(t, seed, steps)
		if t.Failed() {
			return
		}
	}
}

type propAction string

const (
	doApprove  propAction = "approve"
	doReject   propAction = "reject"
	doCancel   propAction = "cancel"
	doTake     propAction = "take"
	doComplete propAction = "complete"
	doDecline  propAction = "decline"
	doJob      propAction = "job"
	doReroute  propAction = "reroute"
)

// The job and re-routing come more often: they act only on requests
// still open.
var propActions = []propAction{doApprove, doReject, doCancel, doTake, doComplete, doDecline, doJob, doJob, doJob, doReroute, doReroute}

type sequence struct {
	t         *testing.T
	e         *env
	rng       *rand.Rand
	submitter string
	id        string
	log       []string
	saves     int // successful writes of the request so far
}

func (s *sequence) fail(format string, args ...any) {
	s.t.Helper()
	s.t.Fatalf("%s\nsteps:\n  %s", fmt.Sprintf(format, args...), strings.Join(s.log, "\n  "))
}

func pick[T any](rng *rand.Rand, xs ...T) T { return xs[rng.IntN(len(xs))] }

func runSequence(t *testing.T, seed uint64, steps int) {
	rng := rand.New(rand.NewPCG(seed, 0x5EED))
	e := newEnv(t)
	s := &sequence{t: t, e: e, rng: rng}
	s.log = append(s.log, fmt.Sprintf("seed %d", seed))

	// The organization's rules for this sequence.
	processor := pick(rng, "proc", "")
	rules := map[string]*Rule{}
	for _, typ := range []Type{TypeVacation, TypeEmploymentCertificate} {
		rules[string(typ)] = &Rule{ProcessorID: processor}
	}
	if _, err := e.svc.UpdateSettings(e.ctx, org, SettingsInput{Processing: rules}); err != nil {
		t.Fatal(err)
	}
	// Deputies, possibly the submitter themself, for some days.
	for _, d := range [][2]string{{"head", pick(rng, "dep", "emp")}, {"boss", pick(rng, "dep", "head")}} {
		from := rng.IntN(4) - 1
		e.setDeputy(d[0], d[1], from, from+1+rng.IntN(20))
		s.log = append(s.log, fmt.Sprintf("deputy of %s: %s", d[0], d[1]))
	}
	s.submitter = pick(rng, "emp", "emp", "emp", "head", "dir")
	in := vacationInput(30, 5)
	if rng.IntN(10) < 3 {
		in = certificateInput()
	}
	v, err := e.svc.Submit(e.ctx, employee(s.submitter), in)
	if err != nil {
		t.Fatal(err)
	}
	s.id, s.saves = v.ID, 1
	s.log = append(s.log, fmt.Sprintf("%s submits %s (processor %q) → %s %s", s.submitter, in.Type, processor, v.State, v.ApproverID))
	s.check(e.get(s.id))

	for range steps {
		s.step()
	}
}

// actor picks one of the people around the request, those who may act on
// it more often than the others.
func (s *sequence) actor(r Request) Actor {
	approver := r.ApproverID
	if approver == "" {
		approver = "head"
	}
	deputy := "dep"
	if d, err := s.e.store.Deputy(s.e.ctx, org, approver); err == nil {
		deputy = d.DeputyID
	}
	switch n := s.rng.IntN(20); {
	case n < 4:
		return employee(s.submitter)
	case n < 9:
		return employee(approver)
	case n < 13:
		return employee(deputy)
	case n < 15:
		return employee(pick(s.rng, "other", "boss", "head2", "dir2"))
	case n < 18:
		return responsible
	default:
		return employee("proc")
	}
}

func (s *sequence) step() {
	e := s.e
	before := e.get(s.id)
	staged, queued, saves := len(e.store.staged()), len(e.queue.All()), e.store.saveCount(s.id)
	act := pick(s.rng, propActions...)
	var a Actor
	var err error
	switch act {
	case doJob:
		d := pick(s.rng, time.Hour, 23*time.Hour, 25*time.Hour, 72*time.Hour, 100*time.Hour, 500*time.Hour)
		e.clock.Advance(d)
		_, err = e.svc.RunJob(e.ctx, time.Now().Add(10*time.Second))
		s.log = append(s.log, fmt.Sprintf("+%v job", d))
	case doReroute:
		what := s.changeStructure()
		_, err = e.svc.Reroute(e.ctx, org)
		s.log = append(s.log, "reroute after "+what)
	default:
		a = s.actor(before)
		err = s.person(act, a)
		s.log = append(s.log, fmt.Sprintf("%s by %s: %v", act, a.Who(), err))
	}
	after := e.get(s.id)
	wrote := e.store.saveCount(s.id) - saves
	s.saves += wrote
	s.log[len(s.log)-1] += fmt.Sprintf(" → %s %q v%d", after.State, after.ApproverID, after.Version)

	// Terminal states absorb everything.
	if before.State.Final() {
		if !reflect.DeepEqual(before, after) || wrote != 0 {
			s.fail("a %s request changed", before.State)
		}
		if act != doJob && act != doReroute && err == nil {
			s.fail("%s succeeded on a %s request", act, before.State)
		}
	}
	switch act {
	case doJob, doReroute:
		if err != nil {
			s.fail("%s: %v", act, err)
		}
		s.checkSystem(act, before, after, wrote, len(e.store.staged())-staged)
	default:
		s.checkPerson(act, a, before, after, err, wrote)
		if err != nil && (len(e.store.staged()) != staged || len(e.queue.All()) != queued) {
			s.fail("refused %s staged or queued messages", act)
		}
	}
	s.check(after)
}

func (s *sequence) person(act propAction, a Actor) error {
	e := s.e
	var err error
	switch act {
	case doApprove:
		_, err = e.svc.Decide(e.ctx, a, s.id, true, DecisionInput{Comment: "да"})
	case doReject:
		_, err = e.svc.Decide(e.ctx, a, s.id, false, DecisionInput{Reason: "нет"})
	case doCancel:
		_, err = e.svc.Cancel(e.ctx, a, s.id)
	case doTake:
		_, err = e.svc.Process(e.ctx, a, s.id, ActTake, ProcessInput{})
	case doComplete:
		_, err = e.svc.Process(e.ctx, a, s.id, ActComplete, ProcessInput{Comment: "сделано"})
	case doDecline:
		_, err = e.svc.Process(e.ctx, a, s.id, ActDecline, ProcessInput{Reason: "нельзя"})
	}
	return err
}

// changeStructure makes one random change publication could make.
func (s *sequence) changeStructure() string {
	st := s.e.store
	switch s.rng.IntN(5) {
	case 0:
		head := pick(s.rng, "head", "head2")
		st.putDept(org, Department{ID: "sales", ParentID: "root", HeadID: head})
		return "sales headed by " + head
	case 1:
		on := s.rng.IntN(2) == 0
		st.setPublished(org, "head", on)
		return fmt.Sprintf("head published %v", on)
	case 2:
		on := s.rng.IntN(2) == 0
		st.setPublished(org, "boss", on)
		return fmt.Sprintf("boss published %v", on)
	case 3:
		dept := pick(s.rng, "sales", "ops")
		st.moveEmployee(org, "emp", dept)
		return "emp moved to " + dept
	default:
		dir := pick(s.rng, "dir", "dir2", "")
		st.setDirector(org, dir)
		return fmt.Sprintf("director %q", dir)
	}
}

// expected says whether a person's action is allowed on r now and, if
// not, the error it gets.
func (s *sequence) expected(act propAction, a Actor, r Request) (bool, domain.ErrorCode) {
	switch act {
	case doApprove, doReject:
		if !r.State.Awaiting() {
			return false, domain.CodeRequestState
		}
		ok := false
		switch {
		case a.EmployeeID != "" && a.EmployeeID == r.EmployeeID:
		case r.State == NoApprover:
			ok = a.Role == domain.RoleResponsiblePerson
		case a.EmployeeID == "":
		case a.EmployeeID == r.ApproverID:
			ok = true
		default:
			d, err := s.e.store.Deputy(s.e.ctx, org, r.ApproverID)
			ok = err == nil && d.DeputyID == a.EmployeeID && d.ActiveOn(day(s.e.clock.Now()))
		}
		if !ok {
			return false, domain.CodeNotAssigned
		}
		return true, ""
	case doCancel:
		if a.EmployeeID == "" || a.EmployeeID != r.EmployeeID {
			return false, domain.CodeNotFound
		}
		if !r.State.Awaiting() && !(r.State == ToProcess && !r.Approved) {
			return false, domain.CodeRequestState
		}
		return true, ""
	default:
		from := map[propAction][]State{doTake: {ToProcess}, doComplete: {InWork}, doDecline: {ToProcess, InWork}}[act]
		if !contains(statesOf(from), string(r.State)) {
			return false, domain.CodeRequestState
		}
		mine := a.Role == domain.RoleResponsiblePerson
		if !r.ProcessorIsResponsible {
			mine = a.EmployeeID != "" && a.EmployeeID == r.ProcessorID
		}
		if !mine {
			return false, domain.CodeNotAssigned
		}
		return true, ""
	}
}

func statesOf(ss []State) []string {
	var out []string
	for _, s := range ss {
		out = append(out, string(s))
	}
	return out
}

var propToAction = map[propAction]Action{doApprove: ActApprove, doReject: ActReject, doCancel: ActCancel,
	doTake: ActTake, doComplete: ActComplete, doDecline: ActDecline}

func (s *sequence) checkPerson(act propAction, a Actor, before, after Request, err error, wrote int) {
	ok, code := s.expected(act, a, before)
	if ok != (err == nil) {
		s.fail("%s by %s on %s: error %v, expected allowed=%v", act, a.Who(), before.State, err, ok)
	}
	if err != nil {
		if codeOf(err) != code {
			s.fail("%s by %s on %s: error %v, want %s", act, a.Who(), before.State, err, code)
		}
		if !reflect.DeepEqual(before, after) || wrote != 0 {
			s.fail("refused %s changed the request", act)
		}
		return
	}
	want := transitions[before.State][propToAction[act]]
	if wrote != 1 || after.Version != before.Version+1 || len(after.History) != len(before.History)+1 || after.State != want {
		s.fail("%s: %d writes, version %d → %d, %d → %d steps, %s → %s (want %s)", act, wrote, before.Version, after.Version,
			len(before.History), len(after.History), before.State, after.State, want)
	}
	last := after.History[len(after.History)-1]
	if last.Action != propToAction[act] || last.By != a.Who() || last.From != before.State || last.To != after.State ||
		!last.At.Equal(s.e.clock.Now()) {
		s.fail("%s recorded as %+v", act, last)
	}
}

func (s *sequence) checkSystem(act propAction, before, after Request, wrote, staged int) {
	e := s.e
	added := after.History[len(before.History):]
	if after.Version-before.Version != int64(wrote) || len(added) > wrote {
		s.fail("%s: %d writes, version %d → %d, %d steps added", act, wrote, before.Version, after.Version, len(added))
	}
	if wrote == 0 && staged != 0 {
		s.fail("%s staged %d messages without writing", act, staged)
	}
	want := map[propAction]Action{doJob: ActEscalate, doReroute: ActReroute}[act]
	for _, h := range added {
		if h.Action != want || h.By != BySystem || h.Approver != "" && h.Approver == after.EmployeeID {
			s.fail("%s recorded %+v", act, h)
		}
	}
	if !before.State.Awaiting() && wrote != 0 {
		s.fail("%s wrote a %s request", act, before.State)
	}
	switch act {
	case doJob:
		if !after.DueAt.IsZero() && !after.DueAt.After(e.clock.Now()) {
			s.fail("still due at %v after the job at %v", after.DueAt, e.clock.Now())
		}
		// Escalation goes up the chain (or to nobody), never down or sideways.
		chain, err := ApproverChain(e.ctx, e.svc.structure(org), after.EmployeeID, after.DepartmentID)
		if err != nil {
			s.fail("chain: %v", err)
		}
		for _, h := range added {
			from, to := indexOf(chain, h.FromApprover), indexOf(chain, h.Approver)
			if h.Approver != "" && (to < 0 || to <= from) {
				s.fail("escalated from %q to %q in chain %v", h.FromApprover, h.Approver, chain)
			}
			if h.Approver == "" && len(chain) != 0 {
				s.fail("escalated to nobody with chain %v", chain)
			}
		}
	case doReroute:
		if !after.State.Awaiting() {
			break
		}
		emp, err := e.store.Employee(e.ctx, org, after.EmployeeID)
		dept := before.DepartmentID
		if err == nil && emp.Published {
			dept = emp.DepartmentID
		}
		chain, err := ApproverChain(e.ctx, e.svc.structure(org), after.EmployeeID, dept)
		if err != nil {
			s.fail("chain: %v", err)
		}
		want, state := "", NoApprover
		if len(chain) > 0 {
			want, state = chain[min(before.Level, len(chain)-1)], PendingApproval
		}
		if after.ApproverID != want || after.State != state || after.DepartmentID != dept {
			s.fail("rerouted to %q (%s) in %s, want %q (%s) in %s, chain %v", after.ApproverID, after.State, after.DepartmentID, want, state, dept, chain)
		}
	}
}

// check holds of any request at any time.
func (s *sequence) check(r Request) {
	if len(r.History) == 0 || r.History[0].Action != ActSubmit || r.History[len(r.History)-1].To != r.State {
		s.fail("history %+v does not lead to %s", r.History, r.State)
	}
	decisions, approvals := 0, 0
	for i, h := range r.History {
		if i > 0 && h.From != r.History[i-1].To {
			s.fail("step %d from %s follows a step to %s", i, h.From, r.History[i-1].To)
		}
		if h.Action == ActApprove || h.Action == ActReject {
			decisions++
			if h.By == r.EmployeeID || h.OnBehalfOf == r.EmployeeID {
				s.fail("%s decided their own request: %+v", r.EmployeeID, h)
			}
		}
		if h.Action == ActApprove {
			approvals++
		}
	}
	if decisions > 1 {
		s.fail("%d decisions", decisions)
	}
	if r.Approved != (approvals == 1) || (r.Approved && !r.NeedsApproval) {
		s.fail("approved %v with %d approvals, needing approval %v", r.Approved, approvals, r.NeedsApproval)
	}
	if r.NeedsApproval && (r.State == ToProcess || r.State == InWork || r.State == Completed) && !r.Approved {
		s.fail("%s without approval", r.State)
	}
	if r.ApproverID != "" && r.ApproverID == r.EmployeeID {
		s.fail("the employee is their own approver")
	}
	if (r.State == PendingApproval) != (r.ApproverID != "") {
		s.fail("%s with approver %q", r.State, r.ApproverID)
	}
	if r.State != PendingApproval && !r.DueAt.IsZero() {
		s.fail("%s due at %v", r.State, r.DueAt)
	}
	// Every structure change is followed by re-routing: a pending request
	// is with someone of its chain, and waits for no escalation only once
	// reminded at the top.
	if r.State == PendingApproval {
		chain, err := ApproverChain(s.e.ctx, s.e.svc.structure(org), r.EmployeeID, r.DepartmentID)
		if err != nil {
			s.fail("chain: %v", err)
		}
		if indexOf(chain, r.ApproverID) < 0 {
			s.fail("approver %s not in the chain %v", r.ApproverID, chain)
		}
		if r.DueAt.IsZero() && (r.RemindedAt.IsZero() || r.ApproverID != chain[len(chain)-1]) {
			s.fail("nothing due for %s (reminded %v) in chain %v", r.ApproverID, r.RemindedAt, chain)
		}
	}
	if r.Version != int64(s.saves) {
		s.fail("version %d after %d writes", r.Version, s.saves)
	}
	if v := s.e.store.versionViolations(); len(v) != 0 {
		s.fail("version jumps: %v", v)
	}
	ids := map[string]bool{}
	for _, m := range s.e.store.staged() {
		if ids[m.ID] {
			s.fail("message %s staged twice", m.ID)
		}
		ids[m.ID] = true
	}
	// The request is in exactly the inbox its state names.
	in, ok := InboxOf(r)
	for _, box := range []Inbox{{InboxApprovals, r.ApproverID}, {Kind: InboxNoApprover}, {InboxProcessing, r.ProcessorID}} {
		rs, err := s.e.store.InboxRequests(s.e.ctx, org, box, "", 100)
		if err != nil {
			s.fail("inbox: %v", err)
		}
		found := false
		for _, x := range rs {
			found = found || x.ID == r.ID
		}
		if found != (ok && box == in) {
			s.fail("in inbox %+v: %v; its inbox %+v, %v", box, found, in, ok)
		}
	}
	// And the service lists it to whoever is to act on it.
	var who Actor
	list := s.e.svc.Approvals
	switch {
	case r.State == PendingApproval:
		who = employee(r.ApproverID)
	case r.State == NoApprover:
		who = responsible
	case r.ProcessorIsResponsible:
		who, list = responsible, s.e.svc.Processing
	case r.ProcessorID != "":
		who, list = employee(r.ProcessorID), s.e.svc.Processing
	default:
		if !r.State.Final() {
			s.fail("%s request with nobody to act on it", r.State)
		}
		return
	}
	p, err := list(s.e.ctx, who, 100, "")
	if err != nil {
		s.fail("list: %v", err)
	}
	found := false
	for _, v := range p.Items {
		found = found || v.ID == r.ID
	}
	if found == r.State.Final() {
		s.fail("%s request listed to %s: %v", r.State, who.Who(), found)
	}
}

package requests

import (
	"context"
	"errors"
	"time"

	"github.com/kabinet/kabinet/shared/notify"
	"github.com/kabinet/kabinet/shared/platform"
	"github.com/kabinet/kabinet/shared/publication"
)

// moved records the step that moved a pending request (escalate, reroute)
// from approver from to where route() put it; route changed the state
// already, so the step's From is the pending state it left.
func (r *Request) moved(a Action, from string, now time.Time) {
	to := r.State
	r.State = PendingApproval
	if from == "" {
		r.State = NoApprover
	}
	r.record(a, to, Step{By: BySystem, Approver: r.ApproverID, FromApprover: from}, now)
}

// RerouteReport says what a re-routing did.
type RerouteReport struct {
	Read     int `json:"read"`
	Rerouted int `json:"rerouted"`
	Lost     int `json:"lost"`
}

// Beyond these, a targeted re-routing would cost more queries than one
// read of every awaiting request, 100 a page: it reads them all instead.
const (
	maxRerouteDepartments = 100
	maxRerouteEmployees   = 100
)

// StructureChanged re-routes the requests awaiting a decision that c
// concerns, after publication changed the structure (implements
// publication.ApprovalSync): those of the departments and employees it
// names, or every one of the organization when it says All or names too
// many. An empty change reads nothing.
func (s *Rerouting) StructureChanged(ctx context.Context, orgID string, c publication.StructureChange) error {
	var rep RerouteReport
	var err error
	if c.All || len(c.Departments) > maxRerouteDepartments || len(c.Employees) > maxRerouteEmployees {
		rep, err = s.Reroute(ctx, orgID)
	} else {
		rep, err = s.RerouteTouched(ctx, orgID, c.Departments, c.Employees)
	}
	if rep.Rerouted+rep.Lost > 0 {
		platform.Logger(ctx).Info("pending approvals re-routed", "read", rep.Read, "rerouted", rep.Rerouted, "lost", rep.Lost,
			"all", c.All, "departments", len(c.Departments), "employees", len(c.Employees))
	}
	return err
}

// Reroute moves every request of the organization awaiting a decision to
// the approver the published structure names now: an employee moved to
// another department, a department with a new head, an approver
// unpublished. The old approver can no longer decide it (the decision
// checks the request's approver); the new one is notified. A request
// nobody could approve gets its approver once there is one.
func (s *Rerouting) Reroute(ctx context.Context, orgID string) (RerouteReport, error) {
	var rep RerouteReport
	st, err := s.Store.Settings(ctx, orgID)
	if err != nil {
		return rep, err
	}
	str := s.structure(orgID)
	for after := (AwaitingPlace{}); ; {
		rs, err := s.Store.Awaiting(ctx, orgID, after, 100)
		if err != nil || len(rs) == 0 {
			return rep, err
		}
		after = AwaitingPlaceOf(rs[len(rs)-1])
		if err := s.reroutePage(ctx, orgID, rs, str, st, &rep); err != nil {
			return rep, err
		}
	}
}

// RerouteTouched does what Reroute does, for only the requests awaiting a
// decision of the given departments (Request.DepartmentID) and of the
// given employees: what a change of those departments' approvers, or of
// those employees' departments, can move. It reads nothing else.
func (s *Rerouting) RerouteTouched(ctx context.Context, orgID string, departments, employees []string) (RerouteReport, error) {
	var rep RerouteReport
	var rs []Request
	seen := map[string]bool{}
	add := func(page []Request, err error) error {
		for _, r := range page {
			if !seen[r.ID] {
				seen[r.ID] = true
				rs = append(rs, r)
			}
		}
		return err
	}
	for _, d := range departments {
		if err := add(s.Store.AwaitingIn(ctx, orgID, d)); err != nil {
			return rep, err
		}
	}
	for _, e := range employees {
		if err := add(s.Store.AwaitingOf(ctx, orgID, e)); err != nil {
			return rep, err
		}
	}
	if len(rs) == 0 {
		return rep, nil
	}
	st, err := s.Store.Settings(ctx, orgID)
	if err != nil {
		return rep, err
	}
	str := s.structure(orgID)
	for start := 0; start < len(rs); start += 100 {
		if err := s.reroutePage(ctx, orgID, rs[start:min(start+100, len(rs))], str, st, &rep); err != nil {
			return rep, err
		}
	}
	return rep, nil
}

// reroutePage re-routes one page of requests, reading their employees in
// one batch. Its messages are queued together once the page is done, or
// the run stops: ⌈n/10⌉ queue calls, not one per request.
func (s *Rerouting) reroutePage(ctx context.Context, orgID string, rs []Request, str *structure, st Settings, rep *RerouteReport) error {
	d := notify.Dispatcher{Queue: s.Queue, Clock: s.Clock}
	var staged []notify.Message
	defer func() { d.Dispatch(ctx, staged...) }()
	rep.Read += len(rs)
	ids := make([]string, 0, len(rs))
	for _, r := range rs {
		ids = append(ids, r.EmployeeID)
	}
	emps, err := s.Store.Employees(ctx, orgID, ids)
	if err != nil {
		return err
	}
	str.know(emps)
	for _, r := range rs {
		moved, msgs, err := s.reroute(ctx, r, emps[r.EmployeeID], str, st)
		staged = append(staged, msgs...)
		switch {
		case errors.Is(err, ErrStale):
			rep.Lost++
		case err != nil:
			return err
		case moved:
			rep.Rerouted++
		}
	}
	return nil
}

// reroute moves r to the approver the structure names now, if it is not
// theirs already; it returns the messages it staged, for the caller to queue.
func (s *Rerouting) reroute(ctx context.Context, r Request, emp Employee, str *structure, st Settings) (bool, []notify.Message, error) {
	now := s.Clock.Now()
	dept := r.DepartmentID
	if emp.Published {
		dept = emp.DepartmentID
	}
	chain, err := ApproverChain(ctx, str, r.EmployeeID, dept)
	if err != nil {
		return false, nil, err
	}
	want := ""
	if len(chain) > 0 {
		want = chain[min(r.Level, len(chain)-1)]
	}
	// The same approver may have moved to or from the top of the chain
	// (a head or director published above them): their escalation is due
	// again, or no more.
	due := r.DueAt
	if want != "" && want == r.ApproverID {
		due = st.nextDue(r.AssignedAt, r.RemindedAt, want == chain[len(chain)-1])
	}
	if want == r.ApproverID && dept == r.DepartmentID && due.Equal(r.DueAt) {
		return false, nil, nil
	}
	prev, from := r.Version, r.ApproverID
	r.DepartmentID = dept
	if want == r.ApproverID {
		r.DueAt = due
		r.Version++ // only the department or the due time changed
		return true, nil, s.Store.SaveRequest(ctx, r, prev)
	}
	r.route(chain, r.Level, st, now)
	r.moved(ActReroute, from, now)
	n := s.newNotes(r.OrganizationID)
	if err := s.noteArrival(ctx, n, &r, false); err != nil {
		return false, nil, err
	}
	if err := s.Store.SaveRequest(ctx, r, prev, n.msgs...); err != nil {
		return false, nil, err
	}
	return true, n.msgs, nil
}

package requests

import (
	"context"
	"errors"
	"time"

	"github.com/kabinet/kabinet/shared/notify"
	"github.com/kabinet/kabinet/shared/platform"
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

// StructureChanged re-routes the organization's requests awaiting a
// decision after publication changed its structure (implements
// publication.ApprovalSync).
func (s *Rerouting) StructureChanged(ctx context.Context, orgID string) error {
	rep, err := s.Reroute(ctx, orgID)
	if rep.Rerouted+rep.Lost > 0 {
		platform.Logger(ctx).Info("pending approvals re-routed", "read", rep.Read, "rerouted", rep.Rerouted, "lost", rep.Lost)
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
	// The messages of a page's writes are queued together once the page is
	// done, or the run stops: ⌈n/10⌉ queue calls, not one per request.
	d := notify.Dispatcher{Queue: s.Queue, Clock: s.Clock}
	var staged []notify.Message
	defer func() { d.Dispatch(ctx, staged...) }()
	for after := ""; ; {
		rs, err := s.Store.Awaiting(ctx, orgID, after, 100)
		if err != nil {
			return rep, err
		}
		if len(rs) == 0 {
			return rep, nil
		}
		after = rs[len(rs)-1].ID
		rep.Read += len(rs)
		ids := make([]string, 0, len(rs))
		for _, r := range rs {
			ids = append(ids, r.EmployeeID)
		}
		emps, err := s.Store.Employees(ctx, orgID, ids)
		if err != nil {
			return rep, err
		}
		str.know(emps)
		for _, r := range rs {
			moved, msgs, err := s.reroute(ctx, r, emps[r.EmployeeID], str, st)
			staged = append(staged, msgs...)
			switch {
			case errors.Is(err, ErrStale):
				rep.Lost++
			case err != nil:
				return rep, err
			case moved:
				rep.Rerouted++
			}
		}
		d.Dispatch(ctx, staged...)
		staged = nil
	}
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

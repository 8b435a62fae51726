package requests

import (
	"context"
	"errors"
	"time"

	"github.com/kabinet/kabinet/shared/notify"
	"github.com/kabinet/kabinet/shared/platform"
)

// JobReport says what one run of the escalation job did.
type JobReport struct {
	Read      int `json:"read"`
	Reminded  int `json:"reminded"`
	Escalated int `json:"escalated"`
	Cleared   int `json:"cleared"`
	// Lost: a request changed while the job worked on it (decided,
	// rerouted); the job leaves it as the other write left it.
	Lost int `json:"lost"`
}

// RunJob reminds approvers of requests waiting past the reminder time and
// escalates those waiting past the escalation time to the next approver up
// (finally the director), until nothing is due or deadline. Every change is
// a conditional write on the request's version, so two runs at once, or a
// decision meanwhile, never remind or escalate twice.
func (s *Escalation) RunJob(ctx context.Context, deadline time.Time) (JobReport, error) {
	var rep JobReport
	pageSize := s.Config.JobPage
	if pageSize <= 0 {
		pageSize = 100
	}
	settings := map[string]Settings{}
	// The messages of a page's writes are queued together once the page is
	// done, or the run stops: ⌈n/10⌉ queue calls, not one per request.
	d := notify.Dispatcher{Queue: s.Queue, Clock: s.Clock}
	var staged []notify.Message
	defer func() { d.Dispatch(ctx, staged...) }()
	for time.Now().Before(deadline) {
		now := s.Clock.Now()
		due, err := s.Store.DueRequests(ctx, now, pageSize)
		if err != nil {
			return rep, err
		}
		if len(due) == 0 {
			return rep, nil
		}
		rep.Read += len(due)
		progressed := false
		for _, r := range due {
			if !time.Now().Before(deadline) {
				return rep, nil
			}
			st, ok := settings[r.OrganizationID]
			if !ok {
				if st, err = s.Store.Settings(ctx, r.OrganizationID); err != nil {
					return rep, err
				}
				settings[r.OrganizationID] = st
			}
			outcome, msgs, err := s.escalate(ctx, r, st, now)
			staged = append(staged, msgs...)
			switch {
			case errors.Is(err, ErrStale):
				rep.Lost++
				continue
			case err != nil:
				return rep, err
			}
			progressed = true
			switch outcome {
			case ActEscalate:
				rep.Escalated++
				platform.Count(ctx, "Escalations", 1)
			case "remind":
				rep.Reminded++
			default:
				rep.Cleared++
			}
		}
		d.Dispatch(ctx, staged...)
		staged = nil
		if !progressed {
			return rep, nil
		}
	}
	return rep, nil
}

// escalate does what is due on r: the reminder, or the move one level up.
// It returns the messages it staged, for the caller to queue.
func (s *Escalation) escalate(ctx context.Context, r Request, st Settings, now time.Time) (Action, []notify.Message, error) {
	prev := r.Version
	n := s.newNotes(r.OrganizationID)
	if r.State != PendingApproval {
		r.DueAt = time.Time{}
		r.Version++
		return "", nil, s.Store.SaveRequest(ctx, r, prev)
	}
	if r.RemindedAt.IsZero() {
		r.RemindedAt = now
		r.Version++
		chain, err := ApproverChain(ctx, s.structure(r.OrganizationID), r.EmployeeID, r.DepartmentID)
		if err != nil {
			return "", nil, err
		}
		r.DueAt = st.nextDue(r.AssignedAt, r.RemindedAt, r.Level >= len(chain)-1)
		if err := s.noteArrival(ctx, n, &r, true); err != nil {
			return "", nil, err
		}
		if err := s.Store.SaveRequest(ctx, r, prev, n.msgs...); err != nil {
			return "", nil, err
		}
		return "remind", n.msgs, nil
	}
	chain, err := ApproverChain(ctx, s.structure(r.OrganizationID), r.EmployeeID, r.DepartmentID)
	if err != nil {
		return "", nil, err
	}
	from := r.ApproverID
	level := r.Level + 1
	if i := indexOf(chain, from); i >= 0 {
		level = i + 1 // the chain may have changed since the last step
	}
	to := r.route(chain, level, st, now)
	if to == from && r.State == PendingApproval {
		// Already at the top: nobody to escalate to; the job is done with it.
		r.DueAt = time.Time{}
		r.Version++
		platform.Logger(ctx).Info("request at the top of its chain; not escalated", "request", r.ID)
		return "", nil, s.Store.SaveRequest(ctx, r, prev)
	}
	r.moved(ActEscalate, from, now)
	if err := s.noteArrival(ctx, n, &r, false); err != nil {
		return "", nil, err
	}
	if err := s.Store.SaveRequest(ctx, r, prev, n.msgs...); err != nil {
		return "", nil, err
	}
	return ActEscalate, n.msgs, nil
}

func indexOf(list []string, s string) int {
	for i, v := range list {
		if v == s {
			return i
		}
	}
	return -1
}

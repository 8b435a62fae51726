package cabinets

import (
	"context"
	"errors"
	"time"

	"github.com/kabinet/kabinet/shared/domain"
	"github.com/kabinet/kabinet/shared/notify"
	"github.com/kabinet/kabinet/shared/platform"
)

// JobReport says what one run of the invitation job did.
type JobReport struct {
	Read     int `json:"read"`     // due cabinets read from the index
	Invited  int `json:"invited"`  // automatic invitations sent
	Reminded int `json:"reminded"` // reminders sent
	Expired  int `json:"expired"`  // invitations marked expired
	Cleared  int `json:"cleared"`  // due marks with nothing left to do
	Lost     int `json:"lost"`     // changed by someone else meanwhile: skipped
}

// RunJob does the due invitation work: the automatic invitations of newly
// created cabinets, one reminder per invitation, and expiry. It reads only
// due cabinets from a sparse index, page by page, until none is left or
// deadline. Every change is a conditional write on the cabinet's version
// with its message staged in the same write, so two runs at once, or a
// retried run, never send an invitation twice, and none is lost.
func (s *InvitationJob) RunJob(ctx context.Context, deadline time.Time) (JobReport, error) {
	var rep JobReport
	orgs := newOrgCache(s.Store)
	page := s.Config.JobPage
	if page <= 0 {
		page = 200
	}
	skip := map[string]bool{} // cabinets this run could not finish: not read again
	for time.Now().Before(deadline) {
		now := s.Clock.Now()
		due, err := s.Store.DueCabinets(ctx, now, page)
		if err != nil {
			return rep, err
		}
		rep.Read += len(due)
		var msgs []notify.Message
		fresh := 0
		for _, c := range due {
			k := c.OrganizationID + "/" + c.EmployeeID
			if skip[k] {
				continue
			}
			fresh++
			next, msg, outcome, err := s.dueWork(ctx, orgs, c, now)
			if err != nil {
				platform.Logger(ctx).Warn("invitation job: cabinet skipped", "tenant", c.OrganizationID, "error", err.Error())
				skip[k] = true
				continue
			}
			var staged []notify.Message
			if msg != nil {
				staged = append(staged, *msg)
			}
			if err := s.Store.SaveCabinet(ctx, next, c.Version, c.State, staged...); err != nil {
				if errors.Is(err, ErrStale) {
					rep.Lost++
					skip[k] = true
					continue
				}
				return rep, err
			}
			next.Version = c.Version + 1
			switch outcome {
			case "invited":
				rep.Invited++
			case "reminded":
				rep.Reminded++
			case "expired":
				rep.Expired++
			default:
				rep.Cleared++
			}
			msgs = append(msgs, staged...)
		}
		notify.Dispatcher{Queue: s.Queue, Clock: s.Clock}.Dispatch(ctx, msgs...)
		if fresh == 0 || len(due) < page {
			return rep, nil
		}
	}
	return rep, nil
}

// dueWork decides what a due cabinet needs now.
func (s *InvitationJob) dueWork(ctx context.Context, orgs *orgCache, c Cabinet, now time.Time) (Cabinet, *notify.Message, string, error) {
	next := c
	next.UpdatedAt = now
	if c.DueAt.IsZero() || c.DueAt.After(now) {
		// The index lagged behind a write; the cabinet is not due after all.
		return next, nil, "", errors.New("not due")
	}
	info, err := orgs.get(ctx, c.OrganizationID)
	if err != nil {
		return next, nil, "", err
	}
	st := info.st
	switch {
	// After the service period ended the automatic invitation is not sent
	// and its due mark is cleared (below): the responsible person invites
	// once the period is extended.
	case c.State == Created && st.AutoSendInvitations && c.Eligible && domain.CheckService(info.org, now) == nil:
		channel := domain.ChannelSMS
		if c.Phone == "" {
			channel = domain.ChannelEmail
		}
		msg, err := s.invite(&next, info.org, st, info.prefs, channel, false, now)
		return next, &msg, "invited", err
	case c.State == InvitationSent && !now.Before(c.ExpiresAt):
		next.State = Failed
		next.Reasons = []Reason{{Code: ReasonInvitationExpired, Message: "the invitation expired before it was accepted; send a new one"}}
		dropInvitation(&next)
		return next, nil, "expired", nil
	case c.State == InvitationSent && c.RemindedAt.IsZero() && st.ReminderAfterDays > 0:
		msg, err := s.invite(&next, info.org, st, info.prefs, c.Channel, true, now)
		return next, &msg, "reminded", err
	}
	next.DueAt = nextDue(next, st) // settings changed since: recompute (zero unless invited)
	return next, nil, "", nil
}

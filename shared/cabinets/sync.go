package cabinets

import (
	"context"
	"errors"
	"strings"
	"sync"
	"time"

	"github.com/kabinet/kabinet/shared/domain"
	"github.com/kabinet/kabinet/shared/platform"
	"github.com/kabinet/kabinet/shared/publication"
)

var _ publication.CabinetSync = (*PublicationSync)(nil)

// ReasonUnpublished explains a cabinet disabled because the employer
// system stopped publishing the employee.
var ReasonUnpublished = Reason{Code: "unpublished", Message: "the employer system no longer publishes this employee"}

// EmployeesChanged keeps each published employee's cabinet record in step
// with publication: a new employee gets one (created at once when the
// organization creates cabinets automatically, and then due for an
// automatic invitation); an employee who loses the right to a cabinet
// (unpublished, dismissed, data no longer valid) has it disabled and their
// sign-in stopped; one who regains it gets it back — active again without a
// new invitation if it was active.
//
// It returns the employees whose cabinet it could not write before
// deadline (throttling, a lost race retried too often); publication then
// leaves their rows unwritten and reports them, so a retry repeats this.
func (s *PublicationSync) EmployeesChanged(ctx context.Context, orgID string, changes []publication.EmployeeChange, now, deadline time.Time) ([]string, error) {
	if len(changes) == 0 {
		return nil, nil
	}
	st, err := s.Store.Settings(ctx, orgID)
	if err != nil {
		return nil, err
	}
	// Once the service period has ended, publication still records the
	// employees, but creates and invites no cabinet by itself
	// (domain.CheckService): they wait, not_created, for an extension.
	// (No organization record is a fixture's publication: nothing to check.)
	org, err := s.Store.Organization(ctx, orgID)
	if err != nil && !isNotFound(err) {
		return nil, err
	}
	if err == nil && domain.CheckService(org, now) != nil {
		st.AutoCreateCabinets, st.AutoSendInvitations = false, false
	}
	var failed []string
	var fresh []Cabinet
	var known []publication.EmployeeChange
	for _, ch := range changes {
		if !ch.Existed && !ch.Unpublished {
			fresh = append(fresh, newCabinet(orgID, ch.Employee, st, now))
			continue
		}
		known = append(known, ch)
	}
	if len(fresh) > 0 {
		existed, unwritten, err := s.Store.PutNewCabinets(ctx, fresh, deadline)
		if err != nil {
			return nil, err
		}
		failed = append(failed, unwritten...)
		// A record there already (an earlier attempt of this publication
		// wrote it) is brought up to date like any known one.
		byID := make(map[string]publication.EmployeeChange, len(changes))
		for _, ch := range changes {
			byID[ch.Employee.ExternalID] = ch
		}
		for _, id := range existed {
			known = append(known, byID[id])
		}
	}
	if len(known) == 0 {
		return failed, nil
	}
	ids := make([]string, len(known))
	for i, ch := range known {
		ids[i] = ch.Employee.ExternalID
	}
	cabs, err := s.Store.Cabinets(ctx, orgID, ids)
	if err != nil {
		return nil, err
	}
	var mu sync.Mutex
	sem := make(chan struct{}, 8)
	var wg sync.WaitGroup
	for _, ch := range known {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			c, ok := cabs[ch.Employee.ExternalID]
			if err := s.syncOne(ctx, orgID, ch, c, ok, st, now); err != nil {
				platform.Logger(ctx).Warn("cabinet not synced with publication", "tenant", orgID, "error", err.Error())
				mu.Lock()
				failed = append(failed, ch.Employee.ExternalID)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	return failed, nil
}

// syncOne applies one change, re-reading and retrying when a concurrent
// write (an activation, a bulk action) moved the cabinet meanwhile.
func (s *PublicationSync) syncOne(ctx context.Context, orgID string, ch publication.EmployeeChange, c Cabinet, ok bool, st Settings, now time.Time) error {
	for attempt := 0; ; attempt++ {
		var prev int64
		var prevState State
		if ok {
			prev, prevState = c.Version, c.State
		} else {
			if ch.Unpublished {
				return nil // nothing to disable
			}
			c = newCabinet(orgID, ch.Employee, Settings{}, now)
			c.State = NotCreated
		}
		before := c
		next := step(c, ch, st, now)
		if err := s.Store.SaveCabinet(ctx, next, prev, prevState); err != nil {
			if errors.Is(err, ErrStale) && attempt < 3 {
				c, err = s.Store.Cabinet(ctx, orgID, ch.Employee.ExternalID)
				ok = err == nil
				if err != nil && !isNotFound(err) {
					return err
				}
				continue
			}
			return err
		}
		if next.PersonID != "" && (next.State == Disabled) != (before.State == Disabled) {
			return s.Store.SetPersonDisabled(ctx, orgID, next.PersonID, next.State == Disabled)
		}
		return nil
	}
}

// newCabinet is the record of an employee published for the first time.
func newCabinet(orgID string, e publication.Employee, st Settings, now time.Time) Cabinet {
	c := Cabinet{OrganizationID: orgID, EmployeeID: e.ExternalID, State: NotCreated, UpdatedAt: now}
	withEmployee(&c, e)
	switch {
	case !c.Eligible:
		c.State, c.Reasons = Failed, problemReasons(e)
	case st.AutoCreateCabinets:
		c.State = Created
		if st.AutoSendInvitations {
			c.DueAt = now
		}
	}
	return c
}

// step is the cabinet after one publication change.
func step(c Cabinet, ch publication.EmployeeChange, st Settings, now time.Time) Cabinet {
	c.UpdatedAt = now
	if ch.Unpublished {
		c.Eligible = false
		return disable(c, []Reason{ReasonUnpublished})
	}
	withEmployee(&c, ch.Employee)
	if !c.Eligible {
		switch c.State {
		case NotCreated, Failed:
			c.State, c.Reasons = Failed, problemReasons(ch.Employee)
			dropInvitation(&c)
			return c
		}
		return disable(c, problemReasons(ch.Employee))
	}
	switch {
	case c.State == Disabled:
		c.State, c.Reasons = c.PreviousState, nil
		c.PreviousState = ""
		switch c.State {
		case Active:
		case NotCreated, "":
			c.State = NotCreated
			if st.AutoCreateCabinets {
				c.State = Created
			}
		default:
			// The old invitation died with the disabling; start over.
			c.State = Created
		}
	case c.State == Failed && isPublicationFailure(c.Reasons):
		c.State, c.Reasons = NotCreated, nil
		if st.AutoCreateCabinets {
			c.State = Created
		}
	}
	if c.State == Created && st.AutoSendInvitations && c.DueAt.IsZero() {
		c.DueAt = now
	}
	return c
}

func disable(c Cabinet, reasons []Reason) Cabinet {
	if c.State != Disabled {
		c.PreviousState = c.State
	}
	c.State, c.Reasons = Disabled, reasons
	dropInvitation(&c)
	return c
}

func withEmployee(c *Cabinet, e publication.Employee) {
	c.FullName = strings.Join(strings.Fields(e.LastName+" "+e.FirstName+" "+e.MiddleName), " ")
	c.GreetingName = strings.Join(strings.Fields(e.FirstName+" "+e.MiddleName), " ")
	c.Position, c.Phone, c.Email, c.Eligible = e.Position, e.Phone, e.Email, e.Eligible()
}

func problemReasons(e publication.Employee) []Reason {
	out := make([]Reason, 0, len(e.CabinetProblems))
	for _, p := range e.CabinetProblems {
		out = append(out, Reason{Code: p.Code, Message: p.Field + ": " + p.Message})
	}
	return out
}

// isPublicationFailure: the error comes from the employee's data, not from
// an invitation (those stay until someone re-invites).
func isPublicationFailure(rs []Reason) bool {
	for _, r := range rs {
		if r.Code == ReasonInvitationExpired || r.Code == ReasonDeliveryFailed {
			return false
		}
	}
	return true
}

package cabinets

import (
	"context"
	"errors"

	"github.com/kabinet/kabinet/shared/domain"
	"github.com/kabinet/kabinet/shared/notify"
)

var _ notify.Reports = (*DeliveryReports)(nil)

// Report writes an invitation's delivery result back to its cabinet. A
// result about an invitation that was since replaced, revoked or used
// changes nothing. An SMS that failed for good (or was held back by the
// SMS limits) while the employee has an e-mail is replaced by the e-mail,
// staged with the cabinet's new state, and the state says so; without one
// the cabinet shows the provider's reason.
func (s *DeliveryReports) Report(ctx context.Context, m notify.Message, r notify.Result) error {
	a := m.About
	if a == nil || (m.Kind != notify.KindInvitation && m.Kind != notify.KindReminder) {
		return nil
	}
	for attempt := 0; attempt < 4; attempt++ {
		c, err := s.Store.Cabinet(ctx, a.OrganizationID, a.EmployeeID)
		if errors.Is(err, domain.ErrNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		if c.InvitationID != a.InvitationID || c.State != InvitationSent {
			return nil
		}
		if r.Failure != "" && m.Fallback != nil && c.FellBackFromSMS {
			return nil // reported before (a redelivery): the fallback is staged
		}
		next := c
		next.UpdatedAt = s.Clock.Now()
		switch {
		case r.Failure == "":
			next.Delivery = DeliverySent
			next.Channel = m.Channel
		case m.Fallback != nil:
			next.Delivery, next.Channel, next.FellBackFromSMS = DeliveryFellBack, domain.ChannelEmail, true
			next.DeliveryDetail = "SMS not delivered: " + r.Failure
		default:
			next.State, next.Delivery = Failed, DeliveryFailed
			next.DeliveryDetail = r.Failure
			if c.FellBackFromSMS {
				next.DeliveryDetail = c.DeliveryDetail + "; e-mail not delivered: " + r.Failure
			}
			next.Reasons = []Reason{{Code: ReasonDeliveryFailed, Message: "the invitation could not be delivered by " +
				string(m.Channel) + ": " + r.Failure}}
			dropInvitation(&next)
		}
		var staged []notify.Message
		if r.Failure != "" && m.Fallback != nil {
			staged = append(staged, *m.Fallback)
		}
		err = s.Store.SaveCabinet(ctx, next, c.Version, c.State, staged...)
		if err == nil {
			notify.Dispatcher{Queue: s.Queue, Clock: s.Clock}.Dispatch(ctx, staged...)
		}
		if !errors.Is(err, ErrStale) {
			return err
		}
	}
	return ErrStale
}

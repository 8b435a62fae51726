package cabinets_test

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/kabinet/kabinet/shared/app"
	"github.com/kabinet/kabinet/shared/cabinets"
	"github.com/kabinet/kabinet/shared/domain"
	"github.com/kabinet/kabinet/shared/notify"
)

// sender is a provider that refuses what it is told to, permanently (as SNS
// refuses a number it cannot deliver to), and records what it sent.
type sender struct {
	mu        sync.Mutex
	refuseSMS bool
	refuseTo  string
	sent      []string
}

func (s *sender) SendSMS(_ context.Context, to, _ string) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.refuseSMS {
		return "", fmt.Errorf("%w: InvalidParameter: phone number is unreachable", notify.ErrPermanent)
	}
	s.sent = append(s.sent, to)
	return "sms-" + to, nil
}

func (s *sender) SendEmail(_ context.Context, to, _, _, _ string) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if to == s.refuseTo {
		return "", fmt.Errorf("%w: MessageRejected: mailbox does not exist", notify.ErrPermanent)
	}
	s.sent = append(s.sent, to)
	return "email-" + to, nil
}

// notifier is NotifierFunction's notifier (functions/notifier) with the
// fake provider: the ledger (the notification records the outbox stages),
// cabinet reports and fallback queue.
func (f *fixture) notifier(t *testing.T, s *sender) *notify.Notifier {
	d := f.deps
	d.Sender = s
	return build(t, app.Notifier, d)
}

// deliver passes a queued message through the notifier as SQS would.
func deliver(t *testing.T, n *notify.Notifier, m notify.Message) {
	t.Helper()
	body, _ := json.Marshal(m)
	if err := n.DeliverJSON(ctx, body, time.Now().Add(20*time.Second)); err != nil {
		t.Fatal(err)
	}
}

func TestUndeliverableSMSFallsBackToEmail(t *testing.T) {
	f := newFixture(t)
	p := newPerson("Недоступный", "Роман")
	f.publish(t, p.row)
	f.invite(t, p)
	s := &sender{refuseSMS: true}
	n := f.notifier(t, s)

	sms := f.outbox.to(p.phone)[0]
	deliver(t, n, sms)
	c := f.cabinet(t, p.id)
	if c.State != cabinets.InvitationSent || c.Delivery != cabinets.DeliveryFellBack || !c.FellBackFromSMS ||
		c.Channel != domain.ChannelEmail || !contains(c.DeliveryDetail, "unreachable") {
		t.Fatalf("after the SMS failed: %+v", c)
	}
	mails := f.outbox.to(p.email)
	if len(mails) != 1 || mails[0].ID != sms.Fallback.ID {
		t.Fatalf("the fallback e-mail was not queued: %+v", mails)
	}
	// The same SQS message again (at-least-once): nothing more happens.
	deliver(t, n, sms)
	if len(f.outbox.to(p.email)) != 1 {
		t.Fatal("the fallback was queued twice")
	}
	deliver(t, n, mails[0])
	c = f.cabinet(t, p.id)
	if c.Delivery != cabinets.DeliverySent || !c.FellBackFromSMS || c.State != cabinets.InvitationSent {
		t.Fatalf("after the e-mail: %+v", c)
	}
	// The e-mail carries a working link.
	token := f.outbox.lastToken(t, p.email)
	if _, err := f.cab.OpenInvitation(ctx, cabinets.TokenInput{Token: token}); err != nil {
		t.Fatal(err)
	}
}

func TestDeliveryFailureReasonIsShownInState(t *testing.T) {
	f := newFixture(t)
	p := newPerson("Ошибкин", "Тимур")
	f.publish(t, p.row)
	if res := f.bulk(t, cabinets.ActionInvite, "email", p.id); res.Done != 1 {
		t.Fatalf("%+v", res)
	}
	n := f.notifier(t, &sender{refuseTo: p.email})
	deliver(t, n, f.outbox.to(p.email)[0])
	c := f.cabinet(t, p.id)
	if c.State != cabinets.Failed || c.Delivery != cabinets.DeliveryFailed || len(c.Reasons) != 1 ||
		c.Reasons[0].Code != cabinets.ReasonDeliveryFailed || !contains(c.Reasons[0].Message, "mailbox does not exist") {
		t.Fatalf("after a permanent failure: %+v", c)
	}
	view, _ := f.cab.List(ctx, f.org, cabinets.ListFilter{State: cabinets.Failed}, 10, "")
	if len(view.Items) != 1 || !contains(view.Items[0].Reasons[0].Message, "mailbox does not exist") {
		t.Fatalf("the list must show the reason: %+v", view)
	}
	// A report about an older invitation changes nothing.
	if res := f.bulk(t, cabinets.ActionInvite, "sms", p.id); res.Done != 1 {
		t.Fatalf("%+v", res)
	}
	old := f.outbox.to(p.email)[0]
	old.ID += "-replayed"
	deliver(t, n, old)
	if c := f.cabinet(t, p.id); c.State != cabinets.InvitationSent || c.Delivery != cabinets.DeliveryQueued {
		t.Fatalf("a stale report changed the cabinet: %+v", c)
	}
}

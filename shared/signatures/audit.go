package signatures

import (
	"context"
	"math/big"
	"time"

	"github.com/kabinet/kabinet/shared/domain"
	"github.com/kabinet/kabinet/shared/platform"
)

// EventKind names a signature event of the audit.
type EventKind string

// The signature events.
const (
	EventCreated     EventKind = "created"
	EventRenewed     EventKind = "renewed"
	EventRevoked     EventKind = "revoked"
	EventSigned      EventKind = "signed"
	EventSignRefused EventKind = "sign_refused"
)

// Event is one signature event: what, when, from where.
type Event struct {
	OrganizationID string    `json:"-"`
	EmployeeID     string    `json:"employeeId"`
	ID             string    `json:"id"`
	Kind           EventKind `json:"kind"`
	At             time.Time `json:"at"`
	Serial         string    `json:"serial,omitempty"`
	// Reason says why signing was refused (wrong_password, locked).
	Reason    string `json:"reason,omitempty"`
	Documents int    `json:"documents,omitempty"`
	Detail    string `json:"detail,omitempty"`
	IP        string `json:"sourceIp,omitempty"`
	UserAgent string `json:"userAgent,omitempty"`
}

func (s *Service) event(c Caller, employeeID string, kind EventKind, serial string, now time.Time) Event {
	return Event{OrganizationID: c.OrganizationID, EmployeeID: employeeID, ID: s.ids.New(), Kind: kind, At: now.UTC(),
		Serial: serial, IP: c.IP, UserAgent: truncate(c.UserAgent, 512)}
}

func (e Event) with(reason string, docs int) Event {
	e.Reason, e.Documents = reason, docs
	return e
}

// audit records an event beside an answer that does not depend on it (a
// refusal, a signature already made): a lost record is logged, and the
// answer stands.
func (s *Service) audit(ctx context.Context, ev Event) {
	if err := s.store.AddEvent(ctx, ev); err != nil {
		platform.Logger(ctx).Error("signature event not recorded", "kind", string(ev.Kind), "error", err.Error())
	}
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}

// EventPage is one page of signature events, newest first.
type EventPage struct {
	Items      []Event `json:"items"`
	NextCursor string  `json:"nextCursor,omitempty"`
}

// MyEvents lists the caller's own signature events.
func (s *Service) MyEvents(ctx context.Context, c Caller, limit int, cursor string) (EventPage, error) {
	p, err := s.employee(ctx, c)
	if err != nil {
		return EventPage{}, err
	}
	return s.events(ctx, c.OrganizationID, p.EmployeeID, limit, cursor)
}

// EmployeeEvents lists an employee's signature events for the responsible
// person of their organization (the edge checks the role; the
// organization comes from the token).
func (s *Service) EmployeeEvents(ctx context.Context, orgID, employeeID string, limit int, cursor string) (EventPage, error) {
	if employeeID == "" || len(employeeID) > 128 {
		return EventPage{}, domain.ErrNotFound
	}
	return s.events(ctx, orgID, employeeID, limit, cursor)
}

func (s *Service) events(ctx context.Context, orgID, employeeID string, limit int, cursor string) (EventPage, error) {
	evs, next, err := s.store.Events(ctx, orgID, employeeID, limit, cursor)
	if err != nil {
		return EventPage{}, err
	}
	if evs == nil {
		evs = []Event{}
	}
	return EventPage{Items: evs, NextCursor: next}, nil
}

func parseSerial(hex string) (*big.Int, bool) {
	n, ok := new(big.Int).SetString(hex, 16)
	return n, ok && n.Sign() > 0
}

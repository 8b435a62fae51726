// Package noticestest holds an in-memory fake of notices.Store and the
// contract suite that both it and the DynamoDB repository pass.
package noticestest

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"sort"
	"sync"
	"time"

	"github.com/kabinet/kabinet/shared/cabinets"
	"github.com/kabinet/kabinet/shared/cabinets/cabinetstest"
	"github.com/kabinet/kabinet/shared/domain"
	"github.com/kabinet/kabinet/shared/notices"
	"github.com/kabinet/kabinet/shared/notify"
	"github.com/kabinet/kabinet/shared/notify/notifytest"
	"github.com/kabinet/kabinet/shared/onboarding/onboardingtest"
)

// Store is an in-memory notices.Store on the cabinet fake (cabinets, and
// through it organizations and notification preferences) and its outbox
// (the notification records), as the repositories share one table.
type Store struct {
	cab       *cabinetstest.Store
	mu        *sync.Mutex
	templates map[string]map[notify.Kind]notify.Template
}

var _ notices.Store = (*Store)(nil)

// New returns a store with no templates on cab (a new one when nil).
func New(cab *cabinetstest.Store) *Store {
	if cab == nil {
		cab = cabinetstest.New(nil, nil)
	}
	return &Store{cab: cab, mu: cab.Onboarding().Mutex(), templates: map[string]map[notify.Kind]notify.Template{}}
}

// CabinetStore is the cabinet fake the store builds on.
func (s *Store) CabinetStore() *cabinetstest.Store { return s.cab }

func (s *Store) out() *notifytest.Outbox { return s.cab.Onboarding().Outbox() }

// Organization reads one organization.
func (s *Store) Organization(ctx context.Context, orgID string) (domain.Organization, error) {
	return s.cab.Organization(ctx, orgID)
}

// NotificationPreferences reads the organization's settings, or the defaults.
func (s *Store) NotificationPreferences(ctx context.Context, orgID string) (notify.Preferences, error) {
	return s.cab.Onboarding().NotificationPreferences(ctx, orgID)
}

// SaveNotificationPreferences stores p if the stored version is still prevVersion.
func (s *Store) SaveNotificationPreferences(ctx context.Context, p notify.Preferences, prevVersion int64) error {
	err := s.cab.Onboarding().SaveNotificationPreferences(ctx, p, prevVersion)
	if errors.Is(err, onboardingtest.ErrVersion) {
		return notices.ErrStale
	}
	return err
}

// Templates reads the organization's own templates.
func (s *Store) Templates(_ context.Context, orgID string) (map[notify.Kind]notify.Template, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[notify.Kind]notify.Template{}
	for k, t := range s.templates[orgID] {
		out[k] = t
	}
	return out, nil
}

// SaveTemplate stores the organization's own template of kind.
func (s *Store) SaveTemplate(_ context.Context, orgID string, kind notify.Kind, t notify.Template, _ time.Time) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.templates[orgID] == nil {
		s.templates[orgID] = map[notify.Kind]notify.Template{}
	}
	s.templates[orgID][kind] = t
	return nil
}

// DeleteTemplate drops the organization's own template.
func (s *Store) DeleteTemplate(_ context.Context, orgID string, kind notify.Kind) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.templates[orgID], kind)
	return nil
}

// Cabinets reads the named employees' cabinets.
func (s *Store) Cabinets(ctx context.Context, orgID string, ids []string) (map[string]cabinets.Cabinet, error) {
	return s.cab.Cabinets(ctx, orgID, ids)
}

// ActiveCabinets pages through the organization's active cabinets.
func (s *Store) ActiveCabinets(ctx context.Context, orgID string, limit int, cursor string) ([]cabinets.Cabinet, string, error) {
	return s.cab.ListCabinets(ctx, orgID, cabinets.Active, "", limit, cursor)
}

// StageNotices stages each message unless a record with its id exists;
// one suppressed because the notice was off is replaced.
func (s *Store) StageNotices(_ context.Context, msgs []notify.Message, now time.Time) ([]bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	written := make([]bool, len(msgs))
	for i, m := range msgs {
		r := s.out().RecordLocked(m)
		if r != nil && !(r.Status == notifytest.StatusSuppressed && r.Failure == notices.ReasonNoticeOff) {
			continue
		}
		s.out().StageLocked([]notify.Message{m}, now)
		written[i] = true
	}
	return written, nil
}

// Suppress writes each message's record as suppressed with reason unless
// one with its id exists.
func (s *Store) Suppress(_ context.Context, msgs []notify.Message, reason string, now time.Time) ([]bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	written := make([]bool, len(msgs))
	for i, m := range msgs {
		if s.out().RecordLocked(m) != nil {
			continue
		}
		s.out().PutLocked(notifytest.Record{Message: m, Status: notifytest.StatusSuppressed, Failure: reason,
			StagedAt: onboardingtest.T(now), CompletedAt: onboardingtest.T(now)})
		written[i] = true
	}
	return written, nil
}

type cursor struct {
	Sort string `json:"s"`
}

var sortRE = regexp.MustCompile(`^[0-9]{13}#[^\x00-\x1f]{1,200}$`)

func sortKey(m notify.Message) string { return fmt.Sprintf("%013d#%s", m.CreatedAt.UnixMilli(), m.ID) }

// Notifications pages through the organization's records, newest first
// (by creation, then id), as the repository's index orders them.
func (s *Store) Notifications(_ context.Context, orgID string, f notices.ListFilter, limit int, cur string) ([]notices.Notification, string, error) {
	before := ""
	if cur != "" {
		var c cursor
		raw, err := base64.RawURLEncoding.DecodeString(cur)
		if err != nil || json.Unmarshal(raw, &c) != nil || !sortRE.MatchString(c.Sort) {
			return nil, "", onboardingtest.BadCursor()
		}
		before = c.Sort
	}
	var recs []notifytest.Record
	for _, r := range s.out().Records(orgID) {
		if f.EmployeeID != "" && r.Message.EmployeeID != f.EmployeeID || f.Kind != "" && r.Message.Kind != f.Kind {
			continue
		}
		if before != "" && sortKey(r.Message) >= before {
			continue
		}
		recs = append(recs, r)
	}
	sort.Slice(recs, func(i, j int) bool { return sortKey(recs[i].Message) > sortKey(recs[j].Message) })
	next := ""
	if len(recs) > limit {
		recs = recs[:limit]
		raw, _ := json.Marshal(cursor{Sort: sortKey(recs[limit-1].Message)})
		next = base64.RawURLEncoding.EncodeToString(raw)
	}
	out := make([]notices.Notification, len(recs))
	for i, r := range recs {
		m := r.Message
		n := notices.Notification{ID: m.ID, Kind: m.Kind, Channel: m.Channel, To: m.To, EmployeeID: m.EmployeeID,
			State: r.Status, Reason: r.Failure, CreatedAt: onboardingtest.T(m.CreatedAt)}
		if !r.CompletedAt.IsZero() {
			t := r.CompletedAt
			n.CompletedAt = &t
		}
		if r.Status == notifytest.StatusHeld && !r.DueAt.IsZero() {
			t := r.DueAt
			n.HeldUntil = &t
		}
		out[i] = n
	}
	return out, next, nil
}

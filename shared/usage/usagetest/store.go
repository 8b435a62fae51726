// Package usagetest holds the in-memory fake of usage.Store, on the
// onboarding fake's organizations, the cabinets fake's counts and the
// notifications outbox, as the repository shares the table with them.
package usagetest

import (
	"context"
	"encoding/base64"
	"sort"
	"sync"
	"time"

	"github.com/kabinet/kabinet/shared/cabinets"
	"github.com/kabinet/kabinet/shared/cabinets/cabinetstest"
	"github.com/kabinet/kabinet/shared/domain"
	"github.com/kabinet/kabinet/shared/notify/notifytest"
	"github.com/kabinet/kabinet/shared/onboarding/onboardingtest"
	"github.com/kabinet/kabinet/shared/usage"
)

// Store is an in-memory usage.Store.
type Store struct {
	People   *onboardingtest.Store
	Cabinets *cabinetstest.Store
	Outbox   *notifytest.Outbox
	// RequestCounters stands in for each organization's request number
	// counter (the requests fake is not part of the shared world).
	RequestCounters map[string]int64

	mu      sync.Mutex
	dailies map[string]map[string]usage.Daily // org → day → aggregate
}

// New returns a fake on the given fakes.
func New(people *onboardingtest.Store, cabs *cabinetstest.Store, out *notifytest.Outbox) *Store {
	return &Store{People: people, Cabinets: cabs, Outbox: out, RequestCounters: map[string]int64{},
		dailies: map[string]map[string]usage.Daily{}}
}

var _ usage.Store = (*Store)(nil)

// Organization reads one organization.
func (s *Store) Organization(ctx context.Context, orgID string) (domain.Organization, error) {
	return s.People.Organization(ctx, orgID)
}

func page[T any](items []T, id func(T) string, limit int, cursor string) ([]T, string, error) {
	after := ""
	if cursor != "" {
		raw, err := base64.RawURLEncoding.DecodeString(cursor)
		if err != nil || len(raw) == 0 {
			return nil, "", domain.NewError(domain.CodeValidationFailed, "the cursor is invalid")
		}
		after = string(raw)
	}
	var out []T
	for _, it := range items {
		if after != "" && id(it) <= after {
			continue
		}
		if limit > 0 && len(out) == limit {
			return out, base64.RawURLEncoding.EncodeToString([]byte(id(out[len(out)-1]))), nil
		}
		out = append(out, it)
	}
	return out, "", nil
}

// Organizations pages through every organization in id order.
func (s *Store) Organizations(_ context.Context, limit int, cursor string) ([]domain.Organization, string, error) {
	return page(s.People.Organizations(), func(o domain.Organization) string { return o.ID }, limit, cursor)
}

// AdoptLegacy stores p unless a period is stored.
func (s *Store) AdoptLegacy(_ context.Context, orgID string, p domain.ServicePeriod) error {
	err := s.People.UpdateOrganization(orgID, func(o *domain.Organization) {
		if o.Service.TrialEndsAt.IsZero() {
			o.Service = p
		}
	})
	if err == domain.ErrNotFound {
		return nil
	}
	return err
}

// SetService stores the period.
func (s *Store) SetService(_ context.Context, orgID string, p domain.ServicePeriod) error {
	return s.People.UpdateOrganization(orgID, func(o *domain.Organization) { o.Service = p })
}

// SetUsageStatistics sets the flag; off deletes the aggregates.
func (s *Store) SetUsageStatistics(_ context.Context, orgID string, allowed bool) error {
	if err := s.People.UpdateOrganization(orgID, func(o *domain.Organization) { o.UsageStatistics = allowed }); err != nil {
		return err
	}
	if !allowed {
		s.mu.Lock()
		delete(s.dailies, orgID)
		s.mu.Unlock()
	}
	return nil
}

// StatisticsOrganizations pages through those that allow statistics.
func (s *Store) StatisticsOrganizations(_ context.Context, limit int, cursor string) ([]string, string, error) {
	var ids []string
	for _, o := range s.People.Organizations() {
		if o.UsageStatistics {
			ids = append(ids, o.ID)
		}
	}
	return page(ids, func(id string) string { return id }, limit, cursor)
}

// Figures counts from the other fakes.
func (s *Store) Figures(ctx context.Context, orgID string, from, to time.Time) (usage.Figures, error) {
	counts, err := s.Cabinets.CabinetCounts(ctx, orgID)
	if err != nil {
		return usage.Figures{}, err
	}
	f := usage.Figures{ActiveCabinets: counts[cabinets.Active]}
	s.mu.Lock()
	f.RequestsCounter = s.RequestCounters[orgID]
	s.mu.Unlock()
	for _, r := range s.Outbox.Records(orgID) {
		if c := r.Message.CreatedAt; !c.Before(from) && c.Before(to) {
			f.Notifications++
		}
	}
	return f, nil
}

// PutDaily stores d while the organization allows statistics.
func (s *Store) PutDaily(ctx context.Context, d usage.Daily) error {
	org, err := s.People.Organization(ctx, d.OrganizationID)
	if err != nil || !org.UsageStatistics {
		return usage.ErrNotAllowed
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.dailies[d.OrganizationID] == nil {
		s.dailies[d.OrganizationID] = map[string]usage.Daily{}
	}
	s.dailies[d.OrganizationID][d.Day] = d
	return nil
}

// DailyOf reads one day's aggregate.
func (s *Store) DailyOf(_ context.Context, orgID, day string) (usage.Daily, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	d, ok := s.dailies[orgID][day]
	if !ok {
		return usage.Daily{}, domain.ErrNotFound
	}
	return d, nil
}

// Dailies pages newest first.
func (s *Store) Dailies(_ context.Context, orgID string, limit int, cursor string) ([]usage.Daily, string, error) {
	s.mu.Lock()
	var ds []usage.Daily
	for _, d := range s.dailies[orgID] {
		ds = append(ds, d)
	}
	s.mu.Unlock()
	sort.Slice(ds, func(i, j int) bool { return ds[i].Day > ds[j].Day })
	// Newest first: the cursor compares inverted days.
	inv := func(d usage.Daily) string {
		b := []byte(d.Day)
		for i := range b {
			b[i] = '~' - b[i]
		}
		return string(b)
	}
	return page(ds, inv, limit, cursor)
}

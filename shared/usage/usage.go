// Package usage holds the organization's service period (the 45-day trial,
// then active or expired) as the responsible person and the operator see
// and change it, and the usage statistics an organization may allow: one
// daily aggregate per organization, kept only while allowed, never
// personal data. It declares its ports; the guard itself is
// domain.CheckService.
package usage

import (
	"context"
	"crypto/subtle"
	"time"

	"github.com/kabinet/kabinet/shared/domain"
	"github.com/kabinet/kabinet/shared/platform"
)

// Daily is one organization's usage aggregate of one Moscow day: counts
// only, nothing about any person.
type Daily struct {
	OrganizationID string `json:"-"`
	Day            string `json:"day"` // YYYY-MM-DD, Moscow
	// ActiveCabinets is the number of active cabinets when the day was
	// aggregated (the O(1) counters).
	ActiveCabinets int `json:"activeCabinets"`
	// RequestsSubmitted that day: the request number counter's move since
	// the day before; nil on the first aggregated day (no counter kept yet).
	RequestsSubmitted *int64 `json:"requestsSubmitted"`
	// RequestsCounter is the request number counter at aggregation, the
	// base of the next day's RequestsSubmitted.
	RequestsCounter int64 `json:"-"`
	// NotificationsSent is the number of notifications staged that day.
	NotificationsSent int       `json:"notificationsSent"`
	AggregatedAt      time.Time `json:"aggregatedAt"`
}

// Figures are what the store counts of one organization for a day.
type Figures struct {
	ActiveCabinets  int
	RequestsCounter int64
	Notifications   int
}

// Store is the persistence of the service period and the statistics.
type Store interface {
	// Organization reads one organization with its stored period and
	// statistics setting; domain.ErrNotFound if there is none.
	Organization(ctx context.Context, orgID string) (domain.Organization, error)
	// Organizations pages through the registry of organizations, in
	// connection (id) order, from an index: no scan.
	Organizations(ctx context.Context, limit int, cursor string) ([]domain.Organization, string, error)
	// AdoptLegacy stores p as the period of an organization that has none
	// stored (connected before periods were), and enters it in the
	// registry; a no-op if one is stored meanwhile.
	AdoptLegacy(ctx context.Context, orgID string, p domain.ServicePeriod) error
	// SetService stores the organization's period (and registers it);
	// domain.ErrNotFound if there is no such organization.
	SetService(ctx context.Context, orgID string, p domain.ServicePeriod) error
	// SetUsageStatistics allows or forbids the statistics; forbidding
	// also deletes every aggregate kept. domain.ErrNotFound if there is
	// no such organization.
	SetUsageStatistics(ctx context.Context, orgID string, allowed bool) error
	// StatisticsOrganizations pages through the organizations that allow
	// statistics, from a sparse index.
	StatisticsOrganizations(ctx context.Context, limit int, cursor string) ([]string, string, error)
	// Figures counts, for one organization, the active cabinets now, the
	// request number counter now, and the notifications staged in [from, to).
	Figures(ctx context.Context, orgID string, from, to time.Time) (Figures, error)
	// PutDaily stores d (replacing that day's, so a rerun leaves one item),
	// only while the organization allows statistics: ErrNotAllowed (and
	// nothing written) otherwise.
	PutDaily(ctx context.Context, d Daily) error
	// DailyOf reads one day's aggregate; domain.ErrNotFound if none.
	DailyOf(ctx context.Context, orgID, day string) (Daily, error)
	// Dailies pages through the organization's aggregates, newest first.
	Dailies(ctx context.Context, orgID string, limit int, cursor string) ([]Daily, string, error)
}

// ErrNotAllowed means the organization does not (or no longer) allow statistics.
var ErrNotAllowed = domain.NewError(domain.CodeConflict, "the organization does not allow usage statistics")

// Service is the service period and statistics of organizations: the
// responsible person's view and setting, the operator's list and
// extension, and the daily job.
type Service struct {
	Store Store
	Clock platform.Clock
}

// NewService builds the use case.
func NewService(store Store, clock platform.Clock) (*Service, error) {
	if err := platform.Required("usage.Service", "Store", store, "Clock", clock); err != nil {
		return nil, err
	}
	return &Service{Store: store, Clock: clock}, nil
}

// ServiceView is an organization's service period as shown.
type ServiceView struct {
	State       domain.ServiceState `json:"state"`
	TrialEndsAt time.Time           `json:"trialEndsAt"`
	ActiveUntil *time.Time          `json:"activeUntil,omitempty"`
	// EndsAt is when the current state ends; absent once expired.
	EndsAt *time.Time `json:"endsAt,omitempty"`
	// DaysLeft counts a started day as a whole one; 0 once expired.
	DaysLeft int `json:"daysLeft"`
	// Message says it in Russian for the administrator.
	Message         string `json:"message"`
	UsageStatistics bool   `json:"usageStatistics"`
}

func opt(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

// viewOf shows the organization's period at now.
func viewOf(org domain.Organization, now time.Time) ServiceView {
	p := domain.ServicePeriodOf(org)
	v := ServiceView{State: p.State(now), TrialEndsAt: p.TrialEndsAt, ActiveUntil: opt(p.ActiveUntil),
		EndsAt: opt(p.Ends(now)), DaysLeft: p.DaysLeft(now), UsageStatistics: org.UsageStatistics}
	v.Message = messageOf(v)
	return v
}

// messageOf is the Russian line the console shows.
func messageOf(v ServiceView) string {
	switch v.State {
	case domain.ServiceTrial:
		return "Пробный период: осталось дней — " + itoa(v.DaysLeft) + ". Количество кабинетов не ограничено."
	case domain.ServiceActive:
		return "Обслуживание оплачено до " + v.EndsAt.In(domain.MSK).Format("02.01.2006") + " (осталось дней — " + itoa(v.DaysLeft) + ")."
	}
	return "Срок обслуживания истёк. Данные доступны для просмотра; создание кабинетов, приглашения и публикация документов " +
		"недоступны до продления."
}

func itoa(n int) string {
	if n == 0 {
		return "0"
	}
	var b []byte
	for ; n > 0; n /= 10 {
		b = append([]byte{byte('0' + n%10)}, b...)
	}
	return string(b)
}

// Of is the responsible person's view of their organization's period. An
// organization connected before periods were stored gets its period
// stored now (and enters the operator's registry), once.
func (s *Service) Of(ctx context.Context, orgID string) (ServiceView, error) {
	org, err := s.Store.Organization(ctx, orgID)
	if err != nil {
		return ServiceView{}, err
	}
	if org.Service.TrialEndsAt.IsZero() {
		p := domain.ServicePeriodOf(org)
		if err := s.Store.AdoptLegacy(ctx, orgID, p); err != nil {
			return ServiceView{}, err
		}
		org.Service = p
	}
	return viewOf(org, s.Clock.Now()), nil
}

// StatisticsInput is the body of PUT /v1/organization/usage-statistics.
type StatisticsInput struct {
	Allowed *bool `json:"allowed"`
}

// SetStatistics allows or forbids the usage statistics; forbidding deletes
// the aggregates kept.
func (s *Service) SetStatistics(ctx context.Context, orgID string, in StatisticsInput) (ServiceView, error) {
	if in.Allowed == nil {
		var p domain.Problems
		p.Add("allowed", "required", "allowed must be true or false")
		return ServiceView{}, p.Err()
	}
	if err := s.Store.SetUsageStatistics(ctx, orgID, *in.Allowed); err != nil {
		return ServiceView{}, err
	}
	return s.Of(ctx, orgID)
}

// OperatorOrganization is one organization in the operator's list.
type OperatorOrganization struct {
	ID        string      `json:"id"`
	Name      string      `json:"name"`
	INN       string      `json:"inn"`
	CreatedAt time.Time   `json:"createdAt"`
	Service   ServiceView `json:"service"`
	// Statistics are the latest daily aggregates (up to StatsShown),
	// present only while the organization allows them.
	Statistics []Daily `json:"statistics,omitempty"`
}

// StatsShown is how many daily aggregates the list shows per organization.
const StatsShown = 7

// OperatorPage is one page of the operator's list.
type OperatorPage struct {
	Items      []OperatorOrganization `json:"items"`
	NextCursor string                 `json:"nextCursor,omitempty"`
}

// List pages through every organization with its period and, when
// allowed, its latest statistics.
func (s *Service) List(ctx context.Context, limit int, cursor string) (OperatorPage, error) {
	orgs, next, err := s.Store.Organizations(ctx, limit, cursor)
	if err != nil {
		return OperatorPage{}, err
	}
	now := s.Clock.Now()
	out := OperatorPage{Items: make([]OperatorOrganization, 0, len(orgs)), NextCursor: next}
	for _, o := range orgs {
		it := OperatorOrganization{ID: o.ID, Name: o.Name, INN: string(o.INN), CreatedAt: o.CreatedAt, Service: viewOf(o, now)}
		if o.UsageStatistics {
			if it.Statistics, _, err = s.Store.Dailies(ctx, o.ID, StatsShown, ""); err != nil {
				return OperatorPage{}, err
			}
		}
		out.Items = append(out.Items, it)
	}
	return out, nil
}

// StatisticsPage is one page of an organization's aggregates.
type StatisticsPage struct {
	Items      []Daily `json:"items"`
	NextCursor string  `json:"nextCursor,omitempty"`
}

// Statistics pages through one organization's aggregates, newest first
// (none unless it allows them: forbidding deleted them).
func (s *Service) Statistics(ctx context.Context, orgID string, limit int, cursor string) (StatisticsPage, error) {
	if _, err := s.Store.Organization(ctx, orgID); err != nil {
		return StatisticsPage{}, err
	}
	items, next, err := s.Store.Dailies(ctx, orgID, limit, cursor)
	if err != nil {
		return StatisticsPage{}, err
	}
	if items == nil {
		items = []Daily{}
	}
	return StatisticsPage{Items: items, NextCursor: next}, nil
}

// ExtendInput is the body of POST /v1/operator/organizations/{id}/service:
// extend the trial, or activate the paid service, until a date (the end
// of that Moscow day).
type ExtendInput struct {
	Action string `json:"action"` // "extend_trial" or "activate"
	Until  string `json:"until"`  // YYYY-MM-DD
}

// MaxServiceYears bounds how far ahead a period may be set.
const MaxServiceYears = 5

// Extend sets the organization's trial end or paid period end.
func (s *Service) Extend(ctx context.Context, orgID string, in ExtendInput) (ServiceView, error) {
	now := s.Clock.Now()
	var p domain.Problems
	if in.Action != "extend_trial" && in.Action != "activate" {
		p.Add("action", "unknown_action", `action must be "extend_trial" or "activate"`)
	}
	day, err := time.ParseInLocation(time.DateOnly, in.Until, domain.MSK)
	var until time.Time
	switch {
	case err != nil:
		p.Add("until", "date_format", "until is a date, YYYY-MM-DD")
	default:
		until = day.AddDate(0, 0, 1).UTC() // through the end of that day
		if !until.After(now) || until.After(now.AddDate(MaxServiceYears, 0, 0)) {
			p.Add("until", "out_of_range", "until must be from today to 5 years ahead")
		}
	}
	if err := p.Err(); err != nil {
		return ServiceView{}, err
	}
	org, err := s.Store.Organization(ctx, orgID)
	if err != nil {
		return ServiceView{}, err
	}
	period := domain.ServicePeriodOf(org)
	if in.Action == "extend_trial" {
		period.TrialEndsAt = until
	} else {
		period.ActiveUntil = until
	}
	if err := s.Store.SetService(ctx, orgID, period); err != nil {
		return ServiceView{}, err
	}
	org.Service = period
	return viewOf(org, now), nil
}

// OperatorToken checks the operator's credential: a secret of the
// deployment, compared in constant time.
type OperatorToken struct {
	token []byte
}

// MinOperatorToken is the shortest operator token accepted.
const MinOperatorToken = 32

// NewOperatorToken keeps the deployment's operator token.
func NewOperatorToken(token []byte) (*OperatorToken, error) {
	if len(token) < MinOperatorToken {
		return nil, domain.NewError(domain.CodeInternal, "the operator token must have at least 32 characters")
	}
	return &OperatorToken{token: append([]byte(nil), token...)}, nil
}

// Valid reports whether presented is the operator token.
func (o *OperatorToken) Valid(presented string) bool {
	return o != nil && subtle.ConstantTimeCompare([]byte(presented), o.token) == 1
}

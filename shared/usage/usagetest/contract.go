package usagetest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/kabinet/kabinet/shared/cabinets"
	"github.com/kabinet/kabinet/shared/domain"
	"github.com/kabinet/kabinet/shared/notify"
	"github.com/kabinet/kabinet/shared/notify/notifytest"
	"github.com/kabinet/kabinet/shared/onboarding"
	"github.com/kabinet/kabinet/shared/onboarding/onboardingtest"
	"github.com/kabinet/kabinet/shared/usage"
)

// Env is what the contract writes through: the store under test and the
// stores of the records it counts, on the same table.
type Env struct {
	Store    usage.Store
	People   onboarding.Store
	Cabinets cabinets.Store
	// Outbox stages notification records, as every sender of messages does.
	Outbox interface {
		Stage(ctx context.Context, msgs []notify.Message, now time.Time) ([]bool, error)
	}
	// NextRequestNumber moves the organization's request number counter,
	// as a submitted request does.
	NextRequestNumber func(ctx context.Context, orgID string) error
}

// Clock is a movable clock for the contract and the use-case tests.
type Clock struct {
	mu  sync.Mutex
	now time.Time
}

// NewClock starts at now.
func NewClock(now time.Time) *Clock { return &Clock{now: now} }

// Now tells the time.
func (c *Clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }

// Set moves the clock to t.
func (c *Clock) Set(t time.Time) { c.mu.Lock(); defer c.mu.Unlock(); c.now = t }

// TestStore is the contract of usage.Store and the job built on it: daily
// aggregates are kept only while an organization allows them, a rerun the
// same day leaves the one item as it was, organizations never mix, and
// forbidding deletes what was kept.
func TestStore(t *testing.T, newEnv func(t *testing.T) Env) {
	ctx := context.Background()

	t.Run("AggregatesOnlyWhileAllowedIdempotentAndApart", func(t *testing.T) {
		e := newEnv(t)
		// A Moscow day D of the contract's own era, and the job's run the
		// night after it.
		base := notifytest.Era(2041)
		dayStart := time.Date(base.Year(), base.Month(), base.Day(), 0, 0, 0, 0, domain.MSK)
		day := dayStart.Format(time.DateOnly)
		clock := NewClock(dayStart.Add(24*time.Hour + 5*time.Minute))
		svc, err := usage.NewService(e.Store, clock)
		if err != nil {
			t.Fatal(err)
		}
		a, _ := onboardingtest.NewOrganization(t, e.People, dayStart.Add(-time.Hour))
		b, _ := onboardingtest.NewOrganization(t, e.People, dayStart.Add(-time.Hour))
		c, _ := onboardingtest.NewOrganization(t, e.People, dayStart.Add(-time.Hour))
		for _, org := range []string{a.ID, c.ID} {
			if err := e.Store.SetUsageStatistics(ctx, org, true); err != nil {
				t.Fatal(err)
			}
		}
		// a: two active cabinets and one created; b (not allowing): one
		// active; c: none.
		for i, st := range []cabinets.State{cabinets.Active, cabinets.Active, cabinets.Created} {
			saveCabinet(t, e, a.ID, fmt.Sprintf("E%d", i), st, dayStart)
		}
		saveCabinet(t, e, b.ID, "E0", cabinets.Active, dayStart)
		// a: three notifications on day D, one the day before and one
		// the day after (neither counted); c: one; b: two.
		stage(t, e, a.ID, dayStart, dayStart.Add(12*time.Hour), dayStart.Add(24*time.Hour-time.Millisecond),
			dayStart.Add(-time.Millisecond), dayStart.Add(24*time.Hour))
		stage(t, e, c.ID, dayStart.Add(time.Hour))
		stage(t, e, b.ID, dayStart.Add(time.Hour), dayStart.Add(2*time.Hour))
		for range 5 {
			if err := e.NextRequestNumber(ctx, a.ID); err != nil {
				t.Fatal(err)
			}
		}

		if _, err := svc.RunJob(ctx, time.Now().Add(time.Minute)); err != nil {
			t.Fatal(err)
		}
		da, err := e.Store.DailyOf(ctx, a.ID, day)
		if err != nil || da.ActiveCabinets != 2 || da.NotificationsSent != 3 || da.RequestsCounter != 5 || da.RequestsSubmitted != nil {
			t.Fatalf("a's day: %+v %v", da, err)
		}
		dc, err := e.Store.DailyOf(ctx, c.ID, day)
		if err != nil || dc.ActiveCabinets != 0 || dc.NotificationsSent != 1 || dc.RequestsCounter != 0 {
			t.Fatalf("c's day: %+v %v", dc, err)
		}
		if _, err := e.Store.DailyOf(ctx, b.ID, day); !errors.Is(err, domain.ErrNotFound) {
			t.Fatalf("b does not allow statistics, yet: %v", err)
		}

		// A rerun the same day, after more activity: the one item stays as written.
		saveCabinet(t, e, a.ID, "E9", cabinets.Active, dayStart)
		clock.Set(clock.Now().Add(3 * time.Hour))
		if _, err := svc.RunJob(ctx, time.Now().Add(time.Minute)); err != nil {
			t.Fatal(err)
		}
		items, next, err := e.Store.Dailies(ctx, a.ID, 10, "")
		if err != nil || next != "" || len(items) != 1 || items[0].ActiveCabinets != 2 || !items[0].AggregatedAt.Equal(da.AggregatedAt) {
			t.Fatalf("after rerun: %+v %q %v", items, next, err)
		}

		// The next day counts the requests numbered since.
		for range 3 {
			if err := e.NextRequestNumber(ctx, a.ID); err != nil {
				t.Fatal(err)
			}
		}
		clock.Set(dayStart.Add(48*time.Hour + 5*time.Minute))
		if _, err := svc.RunJob(ctx, time.Now().Add(time.Minute)); err != nil {
			t.Fatal(err)
		}
		day2 := dayStart.AddDate(0, 0, 1).Format(time.DateOnly)
		d2, err := e.Store.DailyOf(ctx, a.ID, day2)
		if err != nil || d2.RequestsSubmitted == nil || *d2.RequestsSubmitted != 3 || d2.ActiveCabinets != 3 || d2.NotificationsSent != 1 {
			t.Fatalf("a's second day: %+v %v", d2, err)
		}
		items, next, err = e.Store.Dailies(ctx, a.ID, 1, "")
		if err != nil || len(items) != 1 || items[0].Day != day2 || next == "" {
			t.Fatalf("newest first: %+v %q %v", items, next, err)
		}
		if items, next, err = e.Store.Dailies(ctx, a.ID, 1, next); err != nil || len(items) != 1 || items[0].Day != day {
			t.Fatalf("second page: %+v %q %v", items, next, err)
		}
		// A full page may still name a next one (DynamoDB cannot know it
		// is the last); it is empty.
		if next != "" {
			if items, next, err = e.Store.Dailies(ctx, a.ID, 1, next); err != nil || len(items) != 0 || next != "" {
				t.Fatalf("past the last page: %+v %q %v", items, next, err)
			}
		}

		// Forbidding deletes what was kept and stops the collection.
		if err := e.Store.SetUsageStatistics(ctx, a.ID, false); err != nil {
			t.Fatal(err)
		}
		if items, _, err := e.Store.Dailies(ctx, a.ID, 10, ""); err != nil || len(items) != 0 {
			t.Fatalf("kept after forbidding: %+v %v", items, err)
		}
		if err := e.Store.PutDaily(ctx, usage.Daily{OrganizationID: a.ID, Day: day2}); !errors.Is(err, usage.ErrNotAllowed) {
			t.Fatalf("put while forbidden: %v", err)
		}
		clock.Set(dayStart.Add(72*time.Hour + 5*time.Minute))
		if _, err := svc.RunJob(ctx, time.Now().Add(time.Minute)); err != nil {
			t.Fatal(err)
		}
		if items, _, err := e.Store.Dailies(ctx, a.ID, 10, ""); err != nil || len(items) != 0 {
			t.Fatalf("collected after forbidding: %+v %v", items, err)
		}
		if items, _, err := e.Store.Dailies(ctx, c.ID, 10, ""); err != nil || len(items) != 3 {
			t.Fatalf("c's days: %+v %v", items, err)
		}
		if err := e.Store.SetUsageStatistics(ctx, notifytest.NewID("none"), true); !errors.Is(err, domain.ErrNotFound) {
			t.Fatalf("unknown organization: %v", err)
		}
	})

	t.Run("ServicePeriodAndRegistry", func(t *testing.T) {
		e := newEnv(t)
		now := notifytest.Era(2042)
		org, _ := onboardingtest.NewOrganization(t, e.People, now)
		got, err := e.Store.Organization(ctx, org.ID)
		if err != nil || !got.Service.TrialEndsAt.IsZero() || got.UsageStatistics {
			t.Fatalf("legacy organization: %+v %v", got, err)
		}
		p := domain.ServicePeriodOf(got)
		if err := e.Store.AdoptLegacy(ctx, org.ID, p); err != nil {
			t.Fatal(err)
		}
		// Adopting again never overwrites a stored period.
		if err := e.Store.AdoptLegacy(ctx, org.ID, domain.ServicePeriod{TrialEndsAt: now}); err != nil {
			t.Fatal(err)
		}
		if got, err = e.Store.Organization(ctx, org.ID); err != nil || !got.Service.TrialEndsAt.Equal(p.TrialEndsAt) {
			t.Fatalf("adopted: %+v %v", got.Service, err)
		}
		set := domain.ServicePeriod{TrialEndsAt: now.Add(time.Hour), ActiveUntil: now.Add(400 * 24 * time.Hour)}
		if err := e.Store.SetService(ctx, org.ID, set); err != nil {
			t.Fatal(err)
		}
		if got, err = e.Store.Organization(ctx, org.ID); err != nil || !got.Service.TrialEndsAt.Equal(set.TrialEndsAt) ||
			!got.Service.ActiveUntil.Equal(set.ActiveUntil) || got.Name != org.Name {
			t.Fatalf("set: %+v %v", got, err)
		}
		if err := e.Store.SetService(ctx, notifytest.NewID("none"), set); !errors.Is(err, domain.ErrNotFound) {
			t.Fatalf("unknown organization: %v", err)
		}
		// The registry lists it, page by page (other tests' organizations
		// may share the table).
		found, cursor := false, ""
		for range 10000 {
			orgs, next, err := e.Store.Organizations(ctx, 50, cursor)
			if err != nil {
				t.Fatal(err)
			}
			for _, o := range orgs {
				if o.ID == org.ID {
					found = o.Service.ActiveUntil.Equal(set.ActiveUntil)
				}
			}
			if next == "" || found {
				break
			}
			cursor = next
		}
		if !found {
			t.Fatal("the registry does not list the organization with its period")
		}
		if _, _, err := e.Store.Organizations(ctx, 10, "not a cursor!"); err == nil {
			t.Fatal("a garbled cursor was accepted")
		}
	})
}

func saveCabinet(t *testing.T, e Env, orgID, employeeID string, st cabinets.State, now time.Time) {
	t.Helper()
	c := cabinets.Cabinet{OrganizationID: orgID, EmployeeID: employeeID, FullName: "Сотрудник " + employeeID, State: st,
		Eligible: true, UpdatedAt: now}
	if err := e.Cabinets.SaveCabinet(context.Background(), c, 0, ""); err != nil {
		t.Fatal(err)
	}
}

func stage(t *testing.T, e Env, orgID string, at ...time.Time) {
	t.Helper()
	for _, when := range at {
		m := notify.Message{ID: notifytest.NewID("m"), OrganizationID: orgID, Kind: notify.KindInvitation,
			Channel: domain.ChannelSMS, To: "+79161234567", Text: "Текст", CreatedAt: when}
		if _, err := e.Outbox.Stage(context.Background(), []notify.Message{m}, when); err != nil {
			t.Fatal(err)
		}
	}
}

package domain_test

import (
	"testing"
	"time"

	"github.com/kabinet/kabinet/shared/domain"
)

func TestServicePeriodStatesAndDaysLeft(t *testing.T) {
	connected := time.Date(2027, 3, 1, 10, 0, 0, 0, time.UTC)
	org := domain.Organization{ID: "o", CreatedAt: connected, Service: domain.TrialFrom(connected)}
	day := 24 * time.Hour
	for _, c := range []struct {
		at    time.Duration
		state domain.ServiceState
		left  int
	}{
		{0, domain.ServiceTrial, 45},
		{44 * day, domain.ServiceTrial, 1},
		{45*day - time.Second, domain.ServiceTrial, 1}, // a started day counts whole
		{45 * day, domain.ServiceExpired, 0},
		{46 * day, domain.ServiceExpired, 0},
	} {
		now := connected.Add(c.at)
		p := domain.ServicePeriodOf(org)
		if p.State(now) != c.state || p.DaysLeft(now) != c.left {
			t.Errorf("at +%v: %s, %d days left; want %s, %d", c.at, p.State(now), p.DaysLeft(now), c.state, c.left)
		}
		err := domain.CheckService(org, now)
		if expired := c.state == domain.ServiceExpired; expired != domain.IsServiceExpired(err) || (!expired && err != nil) {
			t.Errorf("at +%v: CheckService %v", c.at, err)
		}
	}
	// Activation outlasts the trial, and ends on its date.
	org.Service.ActiveUntil = connected.Add(100 * day)
	p := domain.ServicePeriodOf(org)
	if now := connected.Add(60 * day); p.State(now) != domain.ServiceActive || p.DaysLeft(now) != 40 || domain.CheckService(org, now) != nil {
		t.Errorf("active: %s %d", p.State(now), p.DaysLeft(now))
	}
	if now := connected.Add(100 * day); p.State(now) != domain.ServiceExpired || !domain.IsServiceExpired(domain.CheckService(org, now)) {
		t.Errorf("after activation: %s", p.State(now))
	}
}

// An organization connected before periods were stored has its trial from
// its creation, but never less than the grace after the terms' start.
func TestLegacyOrganizationsTrial(t *testing.T) {
	grace := domain.ServiceTermsStart.Add(domain.LegacyGrace)
	old := domain.Organization{ID: "old", CreatedAt: domain.ServiceTermsStart.AddDate(-1, 0, 0)}
	if p := domain.ServicePeriodOf(old); !p.TrialEndsAt.Equal(grace) {
		t.Errorf("a year-old organization's trial ends %v, want the grace %v", p.TrialEndsAt, grace)
	}
	recent := domain.Organization{ID: "recent", CreatedAt: domain.ServiceTermsStart.Add(-10 * 24 * time.Hour)}
	if p := domain.ServicePeriodOf(recent); !p.TrialEndsAt.Equal(recent.CreatedAt.Add(45 * 24 * time.Hour)) {
		t.Errorf("a 10-day-old organization's trial ends %v", p.TrialEndsAt)
	}
	if !domain.IsServiceExpired(domain.CheckService(old, grace)) || domain.CheckService(old, grace.Add(-time.Second)) != nil {
		t.Error("the grace's end is the legacy trial's end")
	}
}

package usage

import (
	"context"
	"errors"
	"time"

	"github.com/kabinet/kabinet/shared/domain"
	"github.com/kabinet/kabinet/shared/platform"
)

// JobReport says what one run of the statistics job did.
type JobReport struct {
	Day        string `json:"day"`
	Aggregated int    `json:"aggregated"`
	Skipped    int    `json:"skipped"` // forbade statistics meanwhile, or failed
}

// JobPage is how many organizations the job reads from the index at a time.
const JobPage = 100

// DayOf is the Moscow day that ended last before now: the day the job
// aggregates, so that a rerun the same day writes the same item.
func DayOf(now time.Time) (day string, from, to time.Time) {
	m := now.In(domain.MSK)
	to = time.Date(m.Year(), m.Month(), m.Day(), 0, 0, 0, 0, domain.MSK)
	from = to.AddDate(0, 0, -1)
	return from.Format(time.DateOnly), from.UTC(), to.UTC()
}

// RunJob writes, for each organization that allows statistics (read from
// a sparse index, never a scan), the aggregate of the day that just ended.
// One organization's failure is logged and skipped; the rest go on.
func (s *Service) RunJob(ctx context.Context, deadline time.Time) (JobReport, error) {
	day, from, to := DayOf(s.Clock.Now())
	prevDay := from.In(domain.MSK).AddDate(0, 0, -1).Format(time.DateOnly)
	rep := JobReport{Day: day}
	cursor := ""
	for {
		if !time.Now().Before(deadline) {
			return rep, errors.New("statistics job: out of time; a rerun continues idempotently")
		}
		ids, next, err := s.Store.StatisticsOrganizations(ctx, JobPage, cursor)
		if err != nil {
			return rep, err
		}
		for _, id := range ids {
			if err := s.aggregate(ctx, id, day, prevDay, from, to); err != nil {
				platform.Logger(ctx).Warn("statistics job: organization skipped", "tenant", id, "error", err.Error())
				rep.Skipped++
				continue
			}
			rep.Aggregated++
		}
		if next == "" {
			return rep, nil
		}
		cursor = next
	}
}

func (s *Service) aggregate(ctx context.Context, orgID, day, prevDay string, from, to time.Time) error {
	// A rerun the same day keeps the day's item as the first run wrote it.
	if _, err := s.Store.DailyOf(ctx, orgID, day); err == nil {
		return nil
	} else if !errors.Is(err, domain.ErrNotFound) {
		return err
	}
	f, err := s.Store.Figures(ctx, orgID, from, to)
	if err != nil {
		return err
	}
	d := Daily{OrganizationID: orgID, Day: day, ActiveCabinets: f.ActiveCabinets, RequestsCounter: f.RequestsCounter,
		NotificationsSent: f.Notifications, AggregatedAt: s.Clock.Now()}
	switch prev, err := s.Store.DailyOf(ctx, orgID, prevDay); {
	case err == nil:
		n := max(f.RequestsCounter-prev.RequestsCounter, 0)
		d.RequestsSubmitted = &n
	case !errors.Is(err, domain.ErrNotFound):
		return err
	}
	return s.Store.PutDaily(ctx, d)
}

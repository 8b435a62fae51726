package runner

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Schedule is a parsed EventBridge Scheduler expression.
type Schedule interface {
	// Next is the first fire time strictly after t (zero when there is none).
	Next(t time.Time) time.Time
}

// ParseSchedule parses rate(...), cron(...) and at(...) expressions.
// tz names the time zone of cron and at expressions (default UTC).
func ParseSchedule(expr, tz string) (Schedule, error) {
	loc := time.UTC
	if tz != "" {
		l, err := time.LoadLocation(tz)
		if err != nil {
			return nil, fmt.Errorf("time zone %q: %w", tz, err)
		}
		loc = l
	}
	expr = strings.TrimSpace(expr)
	open := strings.Index(expr, "(")
	if open < 0 || !strings.HasSuffix(expr, ")") {
		return nil, fmt.Errorf("schedule %q: want rate(...), cron(...) or at(...)", expr)
	}
	kind, arg := expr[:open], strings.TrimSpace(expr[open+1:len(expr)-1])
	switch kind {
	case "rate":
		return parseRate(arg)
	case "cron":
		return parseCron(arg, loc)
	case "at":
		t, err := time.ParseInLocation("2006-01-02T15:04:05", arg, loc)
		if err != nil {
			return nil, fmt.Errorf("at(%s): %w", arg, err)
		}
		return atSchedule(t), nil
	}
	return nil, fmt.Errorf("schedule %q: unknown kind %q", expr, kind)
}

// RateSchedule fires every Every.
type RateSchedule struct{ Every time.Duration }

// Next implements Schedule.
func (r RateSchedule) Next(t time.Time) time.Time { return t.Add(r.Every) }

func parseRate(arg string) (Schedule, error) {
	f := strings.Fields(arg)
	if len(f) != 2 {
		return nil, fmt.Errorf("rate(%s): want rate(value unit)", arg)
	}
	n, err := strconv.Atoi(f[0])
	if err != nil || n <= 0 {
		return nil, fmt.Errorf("rate(%s): value must be a positive integer", arg)
	}
	var unit time.Duration
	switch f[1] {
	case "minute", "minutes":
		unit = time.Minute
	case "hour", "hours":
		unit = time.Hour
	case "day", "days":
		unit = 24 * time.Hour
	default:
		return nil, fmt.Errorf("rate(%s): unit must be minute(s), hour(s) or day(s)", arg)
	}
	if (n == 1) != !strings.HasSuffix(f[1], "s") {
		return nil, fmt.Errorf("rate(%s): use the singular unit for 1 and the plural otherwise", arg)
	}
	return RateSchedule{Every: time.Duration(n) * unit}, nil
}

type atSchedule time.Time

func (a atSchedule) Next(t time.Time) time.Time {
	if time.Time(a).After(t) {
		return time.Time(a)
	}
	return time.Time{}
}

// CronSchedule is a 6-field AWS cron expression:
// minutes hours day-of-month month day-of-week year.
type CronSchedule struct {
	minutes, hours, dom, months, dow, years map[int]bool
	anyDOM, anyDOW                          bool
	loc                                     *time.Location
}

var monthNames = map[string]int{"JAN": 1, "FEB": 2, "MAR": 3, "APR": 4, "MAY": 5, "JUN": 6, "JUL": 7, "AUG": 8, "SEP": 9, "OCT": 10, "NOV": 11, "DEC": 12}
var dayNames = map[string]int{"SUN": 1, "MON": 2, "TUE": 3, "WED": 4, "THU": 5, "FRI": 6, "SAT": 7}

func parseCron(arg string, loc *time.Location) (*CronSchedule, error) {
	f := strings.Fields(arg)
	if len(f) != 6 {
		return nil, fmt.Errorf("cron(%s): want 6 fields (minutes hours day-of-month month day-of-week year)", arg)
	}
	c := &CronSchedule{loc: loc}
	var err error
	if c.minutes, _, err = cronField(f[0], 0, 59, nil, false); err != nil {
		return nil, fmt.Errorf("cron minutes: %w", err)
	}
	if c.hours, _, err = cronField(f[1], 0, 23, nil, false); err != nil {
		return nil, fmt.Errorf("cron hours: %w", err)
	}
	var domQ, dowQ bool
	if c.dom, domQ, err = cronField(f[2], 1, 31, nil, true); err != nil {
		return nil, fmt.Errorf("cron day-of-month: %w", err)
	}
	if c.months, _, err = cronField(f[3], 1, 12, monthNames, false); err != nil {
		return nil, fmt.Errorf("cron month: %w", err)
	}
	if c.dow, dowQ, err = cronField(f[4], 1, 7, dayNames, true); err != nil {
		return nil, fmt.Errorf("cron day-of-week: %w", err)
	}
	if c.years, _, err = cronField(f[5], 1970, 2199, nil, false); err != nil {
		return nil, fmt.Errorf("cron year: %w", err)
	}
	if domQ == dowQ {
		return nil, errors.New("cron: exactly one of day-of-month and day-of-week must be ?")
	}
	c.anyDOM, c.anyDOW = domQ, dowQ
	return c, nil
}

// cronField parses one field: *, ?, numbers or names, lists (a,b), ranges
// (a-b) and steps (*/n, a/n, a-b/n). It reports whether the field is "?".
func cronField(s string, min, max int, names map[string]int, allowQ bool) (map[int]bool, bool, error) {
	if s == "?" {
		if !allowQ {
			return nil, false, errors.New("? is only allowed for day-of-month and day-of-week")
		}
		return nil, true, nil
	}
	val := func(x string) (int, error) {
		if n, ok := names[strings.ToUpper(x)]; ok {
			return n, nil
		}
		n, err := strconv.Atoi(x)
		if err != nil {
			return 0, fmt.Errorf("%q is not a number", x)
		}
		if n < min || n > max {
			return 0, fmt.Errorf("%d out of range %d-%d", n, min, max)
		}
		return n, nil
	}
	set := map[int]bool{}
	for _, part := range strings.Split(s, ",") {
		rng, stepS, hasStep := strings.Cut(part, "/")
		step := 1
		if hasStep {
			n, err := strconv.Atoi(stepS)
			if err != nil || n <= 0 {
				return nil, false, fmt.Errorf("bad step %q", stepS)
			}
			step = n
		}
		lo, hi := min, max
		switch {
		case rng == "*":
		case strings.Contains(rng, "-"):
			a, b, _ := strings.Cut(rng, "-")
			var err error
			if lo, err = val(a); err != nil {
				return nil, false, err
			}
			if hi, err = val(b); err != nil {
				return nil, false, err
			}
			if hi < lo {
				return nil, false, fmt.Errorf("range %s is backwards", rng)
			}
		default:
			if strings.ContainsAny(rng, "LW#") {
				return nil, false, fmt.Errorf("%q: L, W and # are not supported locally", rng)
			}
			n, err := val(rng)
			if err != nil {
				return nil, false, err
			}
			lo = n
			if !hasStep {
				hi = n
			}
		}
		for v := lo; v <= hi; v += step {
			set[v] = true
		}
	}
	return set, false, nil
}

// Next implements Schedule.
func (c *CronSchedule) Next(after time.Time) time.Time {
	t := after.In(c.loc).Truncate(time.Minute).Add(time.Minute)
	limit := t.AddDate(5, 0, 0)
	for t.Before(limit) {
		if !c.years[t.Year()] {
			t = time.Date(t.Year()+1, 1, 1, 0, 0, 0, 0, c.loc)
			continue
		}
		if !c.months[int(t.Month())] {
			t = time.Date(t.Year(), t.Month()+1, 1, 0, 0, 0, 0, c.loc)
			continue
		}
		if !c.dayMatches(t) {
			t = time.Date(t.Year(), t.Month(), t.Day()+1, 0, 0, 0, 0, c.loc)
			continue
		}
		if !c.hours[t.Hour()] {
			t = time.Date(t.Year(), t.Month(), t.Day(), t.Hour()+1, 0, 0, 0, c.loc)
			continue
		}
		if !c.minutes[t.Minute()] {
			t = t.Add(time.Minute)
			continue
		}
		return t
	}
	return time.Time{}
}

func (c *CronSchedule) dayMatches(t time.Time) bool {
	if c.anyDOM {
		return c.dow[int(t.Weekday())+1]
	}
	return c.dom[t.Day()]
}

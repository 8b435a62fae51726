package runner

import (
	"testing"
	"time"
)

func TestRate(t *testing.T) {
	for expr, want := range map[string]time.Duration{
		"rate(1 minute)": time.Minute, "rate(5 minutes)": 5 * time.Minute, "rate(1 hour)": time.Hour,
		"rate(2 hours)": 2 * time.Hour, "rate(1 day)": 24 * time.Hour, "rate(7 days)": 7 * 24 * time.Hour,
	} {
		s, err := ParseSchedule(expr, "")
		if err != nil {
			t.Errorf("%s: %v", expr, err)
			continue
		}
		t0 := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
		if got := s.Next(t0).Sub(t0); got != want {
			t.Errorf("%s: every %v, want %v", expr, got, want)
		}
	}
	for _, bad := range []string{"rate(0 minutes)", "rate(5 minute)", "rate(1 minutes)", "rate(5 seconds)", "rate(x minutes)", "rate(5)", "every 5 minutes", "cron(* * * *)"} {
		if _, err := ParseSchedule(bad, ""); err == nil {
			t.Errorf("%s: no error", bad)
		}
	}
}

func TestCron(t *testing.T) {
	base := time.Date(2024, 1, 31, 10, 17, 30, 0, time.UTC) // a Wednesday
	cases := []struct{ expr, tz, want string }{
		{"cron(0 3 * * ? *)", "", "2024-02-01T03:00:00Z"},
		{"cron(*/15 * * * ? *)", "", "2024-01-31T10:30:00Z"},
		{"cron(0/20 * * * ? *)", "", "2024-01-31T10:20:00Z"},
		{"cron(5,45 10 * * ? *)", "", "2024-01-31T10:45:00Z"},
		{"cron(0 9-17 ? * MON-FRI *)", "", "2024-01-31T11:00:00Z"},
		{"cron(0 8 ? * SAT,SUN *)", "", "2024-02-03T08:00:00Z"},
		{"cron(0 8 ? * 1 *)", "", "2024-02-04T08:00:00Z"}, // 1 = Sunday
		{"cron(0 0 29 2 ? *)", "", "2024-02-29T00:00:00Z"},
		{"cron(0 0 29 FEB ? 2025-2030)", "", "2028-02-29T00:00:00Z"},
		{"cron(0 12 1 */3 ? *)", "", "2024-04-01T12:00:00Z"},
		{"cron(30 9 * * ? *)", "Europe/Moscow", "2024-02-01T06:30:00Z"}, // 09:30 MSK = 06:30 UTC
	}
	for _, c := range cases {
		s, err := ParseSchedule(c.expr, c.tz)
		if err != nil {
			t.Errorf("%s: %v", c.expr, err)
			continue
		}
		if got := s.Next(base).UTC().Format(time.RFC3339); got != c.want {
			t.Errorf("%s (%s): next %s, want %s", c.expr, c.tz, got, c.want)
		}
	}
	// Next is strictly after.
	s, _ := ParseSchedule("cron(0 3 * * ? *)", "")
	at := time.Date(2024, 2, 1, 3, 0, 0, 0, time.UTC)
	if got := s.Next(at); !got.Equal(at.Add(24 * time.Hour)) {
		t.Errorf("strictly after: %v", got)
	}
	for _, bad := range []string{
		"cron(0 3 * * * *)", "cron(0 3 ? * ? *)", "cron(60 * * * ? *)", "cron(0 24 * * ? *)",
		"cron(0 0 L * ? *)", "cron(0 0 ? * 2#1 *)", "cron(0 0 5-1 * ? *)", "cron(0 0 * * ?)", "cron(? 0 * * ? *)",
	} {
		if _, err := ParseSchedule(bad, ""); err == nil {
			t.Errorf("%s: no error", bad)
		}
	}
	if _, err := ParseSchedule("cron(0 3 * * ? *)", "Mars/Base"); err == nil {
		t.Error("bad time zone accepted")
	}
	a, err := ParseSchedule("at(2030-01-02T03:04:05)", "")
	if err != nil || !a.Next(base).Equal(time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)) || !a.Next(time.Date(2031, 1, 1, 0, 0, 0, 0, time.UTC)).IsZero() {
		t.Errorf("at: %v", err)
	}
}

package requests

import (
	"testing"
	"time"

	"github.com/kabinet/kabinet/shared/sqsqueue"
	"github.com/kabinet/kabinet/shared/sqsqueue/sqsqueuetest"
)

// Re-routing and the escalation job queue the messages of a page of
// requests together: 25 requests cost ⌈n/10⌉ SendMessageBatch calls for
// their n messages, not one call per request.
func TestRerouteAndEscalationBatchSends(t *testing.T) {
	const count = 25
	e := newEnv(t)
	for range count {
		e.submit(employee("emp"), vacationInput(30, 1))
	}
	api := &sqsqueuetest.API{}
	e.rebuild(sqsqueue.New(api, "notifications"), 100)

	check := func(what string, run func()) {
		t.Helper()
		staged, calls, queued := len(e.store.staged()), api.Calls(), len(api.Messages())
		run()
		n := len(e.store.staged()) - staged
		if n < count {
			t.Fatalf("%s: %d messages staged for %d requests", what, n, count)
		}
		if got, want := api.Calls()-calls, (n+9)/10; got != want {
			t.Fatalf("%s: %d messages cost %d SendMessageBatch calls, want %d", what, n, got, want)
		}
		if got := len(api.Messages()) - queued; got != n {
			t.Fatalf("%s: %d of %d messages queued", what, got, n)
		}
		t.Logf("%s: %d requests, %d messages, %d calls", what, count, n, api.Calls()-calls)
	}

	check("re-routing", func() {
		e.clock.Advance(time.Hour)
		e.store.putDept(org, Department{ID: "sales", ParentID: "root", HeadID: "head2"})
		if rep, err := e.svc.Reroute(e.ctx, org); err != nil || rep.Rerouted != count {
			t.Fatalf("reroute: %+v, %v", rep, err)
		}
	})
	check("reminders", func() {
		if rep := e.job(24 * time.Hour); rep.Reminded != count {
			t.Fatalf("job: %+v", rep)
		}
	})
	check("escalation", func() {
		if rep := e.job(72 * time.Hour); rep.Escalated != count {
			t.Fatalf("job: %+v", rep)
		}
	})
}

// A queue that fails fails neither re-routing nor the job: the messages
// stay staged for the outbox drainer.
func TestRerouteAndEscalationSurviveQueueFailure(t *testing.T) {
	e := newEnv(t)
	r := e.submit(employee("emp"), vacationInput(30, 1))
	api := &sqsqueuetest.API{Fail: func(int) bool { return true }}
	e.rebuild(sqsqueue.New(api, "notifications"), 100)
	e.store.putDept(org, Department{ID: "sales", ParentID: "root", HeadID: "head2"})
	if rep, err := e.svc.Reroute(e.ctx, org); err != nil || rep.Rerouted != 1 {
		t.Fatalf("reroute: %+v, %v", rep, err)
	}
	if rep := e.job(24 * time.Hour); rep.Reminded != 1 {
		t.Fatalf("job: %+v", rep)
	}
	if got := e.get(r.ID); got.ApproverID != "head2" || got.RemindedAt.IsZero() {
		t.Fatalf("request %+v", got)
	}
	wantSent(t, "staged", e.store.staged()[1:], "head2@mail.test request_submitted", "head2@mail.test request_submitted")
	if api.Calls() == 0 || len(api.Messages()) != 0 {
		t.Fatalf("%d calls, %d queued", api.Calls(), len(api.Messages()))
	}
}

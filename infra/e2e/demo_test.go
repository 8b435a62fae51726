package e2e

import (
	"bytes"
	"context"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/kabinet/kabinet/infra/demo/story"
)

// make demo's story, played against the local runner as `make demo` plays it
// against `make run`, so that the walkthrough the README points to cannot
// rot: every step must answer as the story expects, and what it reports
// must be what the system holds. It is played twice on one runner, as a
// person trying it would, with the template's own limits.
func TestDemoStory(t *testing.T) {
	console := &lockedBuffer{}
	c := startRunnerWith(t, console)
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("the runner's console:\n%s", console.String())
		}
	})
	var out strings.Builder
	res, err := story.Play(context.Background(), story.Options{Base: c.base, Out: &out})
	t.Logf("the story said:\n%s", out.String())
	if err != nil {
		t.Fatalf("the story failed: %v", err)
	}

	// The request went through the head's approval, as the API tells the employee.
	employee := c.signIn(res.EmployeePhone, "зелёный чайник на окне")
	got := must(c.api.GetRequestWithResponse(c.ctx, res.RequestID, bearer(employee)))
	c.want(got, 200, "the story's request")
	var steps []string
	for _, h := range got.JSON200.History {
		steps = append(steps, string(h.Action)+":"+h.By)
	}
	if !slices.Contains(steps, "submit:DEMO-EMP") || !slices.Contains(steps, "approve:DEMO-HEAD") || string(got.JSON200.State) != res.RequestState {
		t.Fatalf("history %v, state %s (the story said %s)", steps, got.JSON200.State, res.RequestState)
	}
	// The employee got the invitation, the activation code and the decision, in that order.
	if len(res.EmployeeSMS) < 3 || !strings.Contains(res.EmployeeSMS[0], "/activate#") ||
		sixDigits.FindString(res.EmployeeSMS[1]) == "" || !strings.Contains(strings.Join(res.EmployeeSMS[2:], "\n"), "согласовано") {
		t.Fatalf("the employee's SMS: %q", res.EmployeeSMS)
	}
	kinds := map[string]bool{}
	for _, n := range res.Notifications {
		kinds[n.Kind] = true
	}
	if !kinds["invitation"] || !kinds["verification_code"] {
		t.Fatalf("notifications listed: %+v", res.Notifications)
	}
	for _, line := range []string{" 1. Connected ООО «Ромашка»", "approved it", "GET /v1/notifications", "Done."} {
		if !strings.Contains(out.String(), line) {
			t.Errorf("the story did not say %q", line)
		}
	}

	// Again on the same runner: new phones, new keys, nothing in the way.
	again, err := story.Play(context.Background(), story.Options{Base: c.base})
	if err != nil {
		t.Fatalf("the second run failed: %v", err)
	}
	if again.OrganizationID == res.OrganizationID || again.EmployeePhone == res.EmployeePhone {
		t.Fatalf("the second run reused the first one's organization or phones: %+v %+v", res, again)
	}
}

// Without a runner the story says where it looked and how to start one,
// rather than failing on its first API call.
func TestDemoStoryWithoutRunner(t *testing.T) {
	_, err := story.Play(context.Background(), story.Options{Base: "http://127.0.0.1:1"})
	if err == nil || !strings.Contains(err.Error(), "make run") || !strings.Contains(err.Error(), "http://127.0.0.1:1") {
		t.Fatalf("error %v", err)
	}
}

// lockedBuffer is the runner's console, kept to show when the story fails
// (its functions write from many goroutines).
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

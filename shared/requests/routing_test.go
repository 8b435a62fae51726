package requests

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"
)

// mapStructure is a Structure over maps, counting its reads.
type mapStructure struct {
	depts     map[string]Department
	published map[string]bool
	director  string
	errDept   string // the department whose read fails
	errPerson string // the employee whose read fails
	errDir    bool
	reads     int
}

var errRead = errors.New("read failed")

func (m *mapStructure) Department(_ context.Context, id string) (Department, bool, error) {
	m.reads++
	if id == m.errDept {
		return Department{}, false, errRead
	}
	d, ok := m.depts[id]
	return d, ok, nil
}

func (m *mapStructure) Published(_ context.Context, id string) (bool, error) {
	if id == m.errPerson {
		return false, errRead
	}
	return m.published[id], nil
}

func (m *mapStructure) Director(context.Context) (string, error) {
	if m.errDir {
		return "", errRead
	}
	return m.director, nil
}

// company: board (director) ← root (boss) ← sales (head), ops (boss2).
func company() *mapStructure {
	return &mapStructure{
		depts: map[string]Department{
			"board": {ID: "board", HeadID: "dir"},
			"root":  {ID: "root", HeadID: "boss"},
			"sales": {ID: "sales", ParentID: "root", HeadID: "head"},
			"ops":   {ID: "ops", ParentID: "root", HeadID: "boss2"},
		},
		published: map[string]bool{"dir": true, "boss": true, "head": true, "boss2": true, "emp": true, "head2": true},
		director:  "dir",
	}
}

func TestApproverChain(t *testing.T) {
	tests := []struct {
		name     string
		change   func(*mapStructure)
		employee string
		dept     string
		want     []string
	}{
		{"head, parent heads, director", nil, "emp", "sales", []string{"head", "boss", "dir"}},
		{"the head is the employee: parent head next", nil, "head", "sales", []string{"boss", "dir"}},
		{"the top head is the employee", nil, "boss", "root", []string{"dir"}},
		{"no head: parent head", func(m *mapStructure) { m.depts["sales"] = Department{ID: "sales", ParentID: "root"} }, "emp", "sales", []string{"boss", "dir"}},
		{"no head anywhere: director", func(m *mapStructure) {
			m.depts["sales"] = Department{ID: "sales", ParentID: "root"}
			m.depts["root"] = Department{ID: "root"}
		}, "emp", "sales", []string{"dir"}},
		{"no department: director", nil, "emp", "", []string{"dir"}},
		{"unknown (unpublished) department: director", nil, "emp", "gone", []string{"dir"}},
		{"unpublished parent: its head and above skipped", func(m *mapStructure) { delete(m.depts, "root") }, "emp", "sales", []string{"head", "dir"}},
		{"the employee is the director, heading the board", nil, "dir", "board", nil},
		{"the employee is the director, without a department", nil, "dir", "", nil},
		{"the director in a department: its heads approve", nil, "dir", "sales", []string{"head", "boss"}},
		{"unpublished head skipped", func(m *mapStructure) { m.published["head"] = false }, "emp", "sales", []string{"boss", "dir"}},
		{"every head unpublished", func(m *mapStructure) { m.published["head"], m.published["boss"] = false, false }, "emp", "sales", []string{"dir"}},
		{"unpublished director skipped", func(m *mapStructure) { m.published["dir"] = false }, "emp", "sales", []string{"head", "boss"}},
		{"no director", func(m *mapStructure) { m.director = "" }, "emp", "sales", []string{"head", "boss"}},
		{"nobody at all", func(m *mapStructure) { m.director = ""; m.published["head"], m.published["boss"] = false, false }, "emp", "sales", nil},
		{"one head of two levels appears once", func(m *mapStructure) { m.depts["root"] = Department{ID: "root", HeadID: "head"} }, "emp", "sales", []string{"head", "dir"}},
		{"the director heading a department appears once", func(m *mapStructure) { m.director = "boss" }, "emp", "sales", []string{"head", "boss"}},
		{"the director is the head", func(m *mapStructure) { m.director = "head" }, "emp", "sales", []string{"head", "boss"}},
		{"cycle of two departments", func(m *mapStructure) {
			m.depts["sales"] = Department{ID: "sales", ParentID: "ops", HeadID: "head"}
			m.depts["ops"] = Department{ID: "ops", ParentID: "sales", HeadID: "boss2"}
		}, "emp", "sales", []string{"head", "boss2", "dir"}},
		{"department its own parent", func(m *mapStructure) { m.depts["sales"] = Department{ID: "sales", ParentID: "sales", HeadID: "head"} }, "emp", "sales", []string{"head", "dir"}},
		{"the head of the cycle is the employee", func(m *mapStructure) {
			m.depts["sales"] = Department{ID: "sales", ParentID: "ops", HeadID: "emp"}
			m.depts["ops"] = Department{ID: "ops", ParentID: "sales", HeadID: "emp"}
		}, "emp", "sales", []string{"dir"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := company()
			if tt.change != nil {
				tt.change(m)
			}
			got, err := ApproverChain(context.Background(), m, tt.employee, tt.dept)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got, tt.want) {
				t.Fatalf("chain %v, want %v", got, tt.want)
			}
			if slices.Contains(got, tt.employee) {
				t.Fatalf("the employee %s approves their own request", tt.employee)
			}
		})
	}
}

// A long or cyclic parent chain is walked a bounded number of times.
func TestApproverChainBounded(t *testing.T) {
	m := &mapStructure{depts: map[string]Department{}, published: map[string]bool{"dir": true}, director: "dir"}
	for i := 0; i < 200; i++ {
		id, head := fmt.Sprint("d", i), fmt.Sprint("h", i)
		m.depts[id] = Department{ID: id, ParentID: fmt.Sprint("d", i+1), HeadID: head}
		m.published[head] = true
	}
	got, err := ApproverChain(context.Background(), m, "emp", "d0")
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != maxDepth+1 || got[0] != "h0" || got[maxDepth-1] != fmt.Sprint("h", maxDepth-1) || got[maxDepth] != "dir" {
		t.Fatalf("chain of %d: %v…", len(got), got[:3])
	}
	if m.reads > maxDepth {
		t.Fatalf("%d department reads", m.reads)
	}

	// A cycle of three: each department read once.
	m = company()
	m.depts["a"] = Department{ID: "a", ParentID: "b", HeadID: "head"}
	m.depts["b"] = Department{ID: "b", ParentID: "c", HeadID: "boss"}
	m.depts["c"] = Department{ID: "c", ParentID: "a", HeadID: "boss2"}
	got, err = ApproverChain(context.Background(), m, "emp", "a")
	if err != nil || !slices.Equal(got, []string{"head", "boss", "boss2", "dir"}) {
		t.Fatalf("cycle: %v, %v", got, err)
	}
	if m.reads != 3 {
		t.Fatalf("%d department reads in a cycle of 3", m.reads)
	}
}

func TestApproverChainErrors(t *testing.T) {
	for name, change := range map[string]func(*mapStructure){
		"department":         func(m *mapStructure) { m.errDept = "root" },
		"employee":           func(m *mapStructure) { m.errPerson = "boss" },
		"director":           func(m *mapStructure) { m.errDir = true },
		"director published": func(m *mapStructure) { m.errPerson = "dir" },
	} {
		m := company()
		change(m)
		if got, err := ApproverChain(context.Background(), m, "emp", "sales"); !errors.Is(err, errRead) || got != nil {
			t.Errorf("%s read failing: %v, %v", name, got, err)
		}
	}
}

func TestRoute(t *testing.T) {
	st := DefaultSettings("o")
	now := time.Date(2026, 3, 2, 6, 0, 0, 0, time.UTC)
	remind := DefaultRemindAfterHours * time.Hour
	r := Request{}
	if got := r.route([]string{"a", "b", "c"}, 0, st, now); got != "a" || r.State != PendingApproval || r.Level != 0 ||
		!r.AssignedAt.Equal(now) || !r.DueAt.Equal(now.Add(remind)) {
		t.Fatalf("route to the first: %q %+v", got, r)
	}
	// Reminded, below the top: due at the escalation.
	r.RemindedAt = now.Add(remind)
	later := now.Add(time.Hour)
	r.route([]string{"a", "b", "c"}, 0, st, later)
	if !r.AssignedAt.Equal(now) || r.RemindedAt.IsZero() || !r.DueAt.Equal(now.Add(remind+DefaultEscalateAfterHours*time.Hour)) {
		t.Fatalf("the same approver again reset the clock: %+v", r)
	}
	// Past the top: the top one; a new approver restarts the clock.
	if got := r.route([]string{"a", "b", "c"}, 7, st, later); got != "c" || r.Level != 2 || !r.AssignedAt.Equal(later) ||
		!r.RemindedAt.IsZero() || !r.DueAt.Equal(later.Add(remind)) {
		t.Fatalf("route past the top: %q %+v", got, r)
	}
	// Reminded at the top: nothing more is due.
	r.RemindedAt = later
	r.route([]string{"a", "b", "c"}, 2, st, later)
	if !r.DueAt.IsZero() {
		t.Fatalf("due %v at the top after the reminder", r.DueAt)
	}
	// Nobody: no approver, nothing due.
	if got := r.route(nil, 1, st, later); got != "" || r.State != NoApprover || r.ApproverID != "" || r.Level != 0 || !r.DueAt.IsZero() {
		t.Fatalf("route to nobody: %q %+v", got, r)
	}
}

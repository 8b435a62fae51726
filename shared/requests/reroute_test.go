package requests

import (
	"testing"
	"time"

	"github.com/kabinet/kabinet/shared/publication"
)

// A structure change re-routes only the requests it concerns, reading only
// those: none for an empty change, one department's for a new head there,
// one employee's for a move; and moves them as a full re-routing would.
func TestStructureChangedReadsOnlyWhatItConcerns(t *testing.T) {
	e := newEnv(t)
	sales := e.submit(employee("emp"), vacationInput(30, 5))  // head
	sales2 := e.submit(employee("dep"), vacationInput(30, 5)) // head
	ops := e.submit(employee("other"), vacationInput(30, 5))  // boss2
	root := e.submit(employee("boss2"), vacationInput(30, 5)) // boss (ops is under root)
	board := e.submit(employee("boss"), vacationInput(30, 5)) // dir
	changed := func(c publication.StructureChange) (read int) {
		t.Helper()
		before := e.store.awaitingReads()
		if err := e.svc.StructureChanged(e.ctx, org, c); err != nil {
			t.Fatal(err)
		}
		return e.store.awaitingReads() - before
	}
	approver := func(r Request) string { return e.get(r.ID).ApproverID }

	if n := changed(publication.StructureChange{}); n != 0 {
		t.Fatalf("an empty change read %d requests", n)
	}

	e.clock.Advance(time.Hour)
	e.store.putDept(org, Department{ID: "sales", ParentID: "root", HeadID: "head2"})
	if n := changed(publication.StructureChange{Departments: []string{"sales"}}); n != 2 {
		t.Fatalf("a new head of sales read %d requests, want its 2", n)
	}
	if approver(sales) != "head2" || approver(sales2) != "head2" || approver(ops) != "boss2" || e.get(ops.ID).Version != 1 {
		t.Fatalf("after a new head of sales: %s %s %s", approver(sales), approver(sales2), approver(ops))
	}

	e.store.moveEmployee(org, "other", "sales")
	if n := changed(publication.StructureChange{Employees: []string{"other"}}); n != 1 {
		t.Fatalf("a move read %d requests, want the employee's 1", n)
	}
	if got := e.get(ops.ID); got.ApproverID != "head2" || got.DepartmentID != "sales" {
		t.Fatalf("the moved employee's request: %+v", got)
	}

	// Too many departments, or All: every awaiting request, once.
	many := make([]string, maxRerouteDepartments+1)
	for i := range many {
		many[i] = "d" + string(rune('a'+i%26)) + string(rune('a'+i/26))
	}
	e.store.setDirector(org, "dir2")
	if n := changed(publication.StructureChange{Departments: many}); n != 5 {
		t.Fatalf("a wide change read %d requests, want all 5", n)
	}
	if approver(board) != "dir2" || approver(root) != "boss" {
		t.Fatalf("after a new director: %s %s", approver(board), approver(root))
	}
	if v := e.store.versionViolations(); len(v) != 0 {
		t.Fatal(v)
	}
}

// Re-routing the requests a change concerns ends where re-routing every
// request does: the targeted one on one store, the full one on a copy,
// after the same changes.
func TestTargetedRerouteMatchesFullReroute(t *testing.T) {
	targeted, full := newEnv(t), newEnv(t)
	for _, e := range []*env{targeted, full} {
		for _, who := range []string{"emp", "dep", "other", "boss2", "boss", "head", "dir"} {
			e.submit(employee(who), vacationInput(30, 5))
		}
	}
	steps := []struct {
		change publication.StructureChange
		apply  func(*fakeStore)
	}{
		{publication.StructureChange{Departments: []string{"ops"}}, func(f *fakeStore) {
			f.putDept(org, Department{ID: "ops", ParentID: "root", HeadID: "other"})
		}},
		{publication.StructureChange{Departments: []string{"root", "sales", "ops"}}, func(f *fakeStore) {
			f.putDept(org, Department{ID: "root", HeadID: "head2"})
		}},
		{publication.StructureChange{Employees: []string{"emp", "boss2"}}, func(f *fakeStore) {
			f.moveEmployee(org, "emp", "ops")
			f.moveEmployee(org, "boss2", "sales")
		}},
		{publication.StructureChange{Departments: []string{"sales"}, Employees: []string{"head"}}, func(f *fakeStore) {
			f.setPublished(org, "head", false)
		}},
		{publication.StructureChange{Departments: []string{"sales"}, Employees: []string{"head"}}, func(f *fakeStore) {
			f.setPublished(org, "head", true)
		}},
	}
	for i, s := range steps {
		targeted.clock.Advance(time.Hour)
		full.clock.Advance(time.Hour)
		s.apply(targeted.store)
		s.apply(full.store)
		if err := targeted.svc.StructureChanged(targeted.ctx, org, s.change); err != nil {
			t.Fatal(err)
		}
		if _, err := full.svc.Reroute(full.ctx, org); err != nil {
			t.Fatal(err)
		}
		want, _ := full.store.Awaiting(full.ctx, org, AwaitingPlace{}, 100)
		for _, w := range want {
			if got := targeted.get(w.ID); got.ApproverID != w.ApproverID || got.DepartmentID != w.DepartmentID ||
				got.Level != w.Level || !got.DueAt.Equal(w.DueAt) || got.State != w.State {
				t.Errorf("step %d: request of %s targeted %s/%s/%d, full %s/%s/%d", i, w.EmployeeID,
					got.ApproverID, got.DepartmentID, got.Level, w.ApproverID, w.DepartmentID, w.Level)
			}
		}
	}
}

package publication_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/kabinet/kabinet/shared/domain"
	"github.com/kabinet/kabinet/shared/publication"
	"github.com/kabinet/kabinet/shared/publication/publicationtest"
)

// approvals records what publication tells it, and fails while fail is set.
type approvals struct {
	told []publication.StructureChange
	fail error
}

func (a *approvals) StructureChanged(_ context.Context, _ string, c publication.StructureChange) error {
	a.told = append(a.told, c)
	return a.fail
}

// last is what the last call told, and forgets it: "none" when nothing.
func (a *approvals) last() string {
	if len(a.told) == 0 {
		return "none"
	}
	c := a.told[len(a.told)-1]
	a.told = nil
	return fmt.Sprintf("all=%v departments=%v employees=%v", c.All, c.Departments, c.Employees)
}

type noCabinets struct{}

func (noCabinets) EmployeesChanged(context.Context, string, []publication.EmployeeChange, time.Time, time.Time) ([]string, error) {
	return nil, nil
}

type fixedClock struct{}

func (fixedClock) Now() time.Time { return time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC) }

type seq struct{ n int }

func (s *seq) New() string { s.n++; return fmt.Sprintf("ID%04d", s.n) }

func parsePhone(raw string, _ bool) (domain.Phone, error) { return domain.Phone(raw), nil }

func sp(s string) *string { return &s }

func row(id, dept string) publication.EmployeeRow {
	return publication.EmployeeRow{ExternalID: id, LastName: "Иванов", FirstName: "Иван", DepartmentID: sp(dept),
		Phone: sp("+79850000000"), Email: sp(id + "@romashka.ru"), Version: 1}
}

func deptRow(id, parent, head string) publication.DepartmentRow {
	d := publication.DepartmentRow{ExternalID: id, Name: "Отдел " + id, HeadID: sp(head), Version: 1}
	if parent != "" {
		d.ParentID = sp(parent)
	}
	return d
}

type rerouteEnv struct {
	t     *testing.T
	store *publicationtest.Store
	appr  *approvals
	svc   *publication.Publishing
}

// newRerouteEnv publishes
//
//	D1 (H1) ← D2 (H2) ← D3 (H3)
//	D4 (H4)
//
// with E2 in D2, E3 in D3, E4 in D4 and director DIR.
func newRerouteEnv(t *testing.T) *rerouteEnv {
	e := &rerouteEnv{t: t, store: publicationtest.New(), appr: &approvals{}}
	var err error
	e.svc, err = publication.NewPublishing(e.store, noCabinets{}, e.appr, parsePhone, fixedClock{}, &seq{}, time.Minute, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	e.delta(publication.Batch{
		Employees: []publication.EmployeeRow{row("H1", "D1"), row("H2", "D2"), row("H3", "D3"), row("H4", "D4"), row("DIR", "D1"),
			row("E2", "D2"), row("E3", "D3"), row("E4", "D4")},
		Departments: []publication.DepartmentRow{deptRow("D1", "", "H1"), deptRow("D2", "D1", "H2"), deptRow("D3", "D2", "H3"), deptRow("D4", "", "H4")},
		Director:    &publication.DirectorRow{EmployeeID: "DIR", Version: 1}})
	if got := e.appr.last(); got != "all=true departments=[] employees=[]" {
		t.Fatalf("first publication told %s, want all (a director came)", got)
	}
	return e
}

func (e *rerouteEnv) delta(b publication.Batch) publication.Result {
	e.t.Helper()
	res, err := e.svc.Delta(context.Background(), "org", b, time.Now().Add(10*time.Second))
	if err != nil {
		e.t.Fatal(err)
	}
	if len(res.Rejected) > 0 || len(res.Stale) > 0 {
		e.t.Fatalf("rejected %+v, stale %+v", res.Rejected, res.Stale)
	}
	return res
}

func (e *rerouteEnv) want(what, told string) {
	e.t.Helper()
	if got := e.appr.last(); got != told {
		e.t.Errorf("%s told %s, want %s", what, got, told)
	}
}

const none = "none"

// Only what can change an approver is told, and only the departments and
// employees it concerns; an unchanged publication, or one changing names
// and phones, tells nothing (so reads no pending request).
func TestPublicationTellsApprovalsOnlyWhatChanged(t *testing.T) {
	e := newRerouteEnv(t)
	e.delta(publication.Batch{Employees: []publication.EmployeeRow{row("E2", "D2"), row("E3", "D3")},
		Departments: []publication.DepartmentRow{deptRow("D1", "", "H1")}, Director: &publication.DirectorRow{EmployeeID: "DIR", Version: 1}})
	e.want("an unchanged publication", none)

	renamed := deptRow("D2", "D1", "H2")
	renamed.Name, renamed.Version = "Склад", 2
	phone := row("E3", "D3")
	phone.Phone, phone.Version = sp("+79851111111"), 2
	e.delta(publication.Batch{Employees: []publication.EmployeeRow{phone}, Departments: []publication.DepartmentRow{renamed}})
	e.want("a new name and phone", none)

	head := deptRow("D2", "D1", "E2")
	head.Version = 3 // over the renamed one
	e.delta(publication.Batch{Departments: []publication.DepartmentRow{head}})
	e.want("a new head of D2", "all=false departments=[D2 D3] employees=[]")

	e.delta(publication.Batch{Departments: []publication.DepartmentRow{deptRow("D3", "D4", "H3")}})
	e.want("D3 moved under D4", "all=false departments=[D3] employees=[]")

	e.delta(publication.Batch{Employees: []publication.EmployeeRow{row("E4", "D1")}})
	e.want("E4 moved", "all=false departments=[] employees=[E4]")

	// H4 heads D4 (and D3 below it now): dismissed, they approve nothing.
	gone := row("H4", "D4")
	gone.DismissalDate, gone.Version = sp("2026-01-01"), 2
	e.delta(publication.Batch{Employees: []publication.EmployeeRow{gone}})
	e.want("H4 dismissed", "all=false departments=[D3 D4] employees=[H4]")

	e.delta(publication.Batch{Employees: []publication.EmployeeRow{row("NEW", "D2")}})
	e.want("a new employee", none)

	e.delta(publication.Batch{Director: &publication.DirectorRow{EmployeeID: "H1", Version: 2}})
	e.want("a new director", "all=true departments=[] employees=[]")
}

// A snapshot's commit tells what it unpublished: the departments (and
// those below), the employees, the departments they headed.
func TestCommitTellsApprovalsWhatItUnpublished(t *testing.T) {
	e := newRerouteEnv(t)
	ctx := context.Background()
	snap, err := e.svc.BeginSnapshot(ctx, "org")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.AddChunk(ctx, "org", snap.ID, publication.Batch{
		Employees: []publication.EmployeeRow{row("H1", "D1"), row("H2", "D2"), row("H3", "D3"), row("DIR", "D1"), row("E2", "D2"), row("E3", "D3")},
		Departments: []publication.DepartmentRow{deptRow("D1", "", "H1"), deptRow("D2", "D1", "H2"), deptRow("D3", "D2", "H3"),
			deptRow("D4", "", "H4")}}, time.Now().Add(10*time.Second)); err != nil {
		t.Fatal(err)
	}
	e.want("an unchanged chunk", none)
	if _, err := e.svc.Commit(ctx, "org", snap.ID); err != nil {
		t.Fatal(err)
	}
	e.want("the commit", "all=false departments=[D4] employees=[E4 H4]")
}

// A re-routing that fails is told again by the next call, even one whose
// rows are all unchanged by then; once it succeeds, nothing more.
func TestFailedReroutingIsRetriedByTheNextCall(t *testing.T) {
	e := newRerouteEnv(t)
	ctx := context.Background()
	e.appr.fail = errors.New("requests store down")
	b := publication.Batch{Departments: []publication.DepartmentRow{deptRow("D3", "D2", "E3")}}
	if _, err := e.svc.Delta(ctx, "org", b, time.Now().Add(10*time.Second)); err == nil {
		t.Fatal("a failed re-routing did not fail the publication")
	}
	e.want("the failing call", "all=false departments=[D3] employees=[]")
	if c, v, _ := e.store.PendingReroute(ctx, "org"); v == 0 || fmt.Sprint(c.Departments) != "[D3]" {
		t.Fatalf("no marker after the failure: %+v v%d", c, v)
	}
	// The rows are written by now: the retry changes nothing, and still
	// re-routes, together with what it changes itself.
	e.appr.fail = nil
	res := e.delta(publication.Batch{Departments: []publication.DepartmentRow{deptRow("D3", "D2", "E3")},
		Employees: []publication.EmployeeRow{row("E4", "D1")}})
	if res.Departments.Unchanged != 1 {
		t.Fatalf("the retry's row is not unchanged: %+v", res)
	}
	e.want("the retry", "all=false departments=[D3] employees=[E4]")
	if c, v, _ := e.store.PendingReroute(ctx, "org"); v != 0 || !c.Empty() {
		t.Fatalf("marker left after success: %+v v%d", c, v)
	}
	e.delta(b)
	e.want("the call after", none)
}

// Package requeststest holds the contract suite of requests.Store, which
// both the in-memory fake the request tests run on and the DynamoDB
// repository pass.
//
// The fake itself stays in shared/requests/fake_test.go: the request tests
// are in-package tests (they reach unexported parts of the service), and an
// in-package test cannot import a package that imports requests. It is run
// against this suite from shared/requests/fake_contract_test.go.
package requeststest

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kabinet/kabinet/shared/domain"
	"github.com/kabinet/kabinet/shared/notify"
	"github.com/kabinet/kabinet/shared/notify/notifytest"
	"github.com/kabinet/kabinet/shared/requests"
)

// Env is a store under contract and what it staged: the ids of the
// messages staged for an organization, in any order.
type Env struct {
	Store  requests.Store
	Staged func(t *testing.T, orgID string) []string
	// Seed stores w as the rest of the system writes it (publication,
	// cabinets, onboarding, notices), for the reads of it.
	Seed func(t *testing.T, w World)
}

// World is what a request store reads of what others write: an
// organization with its responsible person, its published structure, the
// employees' active cabinets, its templates and notification preferences.
type World struct {
	Org         domain.Organization
	Responsible domain.Person // Org.ResponsiblePersonID's
	// Employees are published; those Published false were published and
	// then unpublished.
	Employees   []requests.Employee
	Departments []requests.Department
	Director    string
	// Contacts are the employees' active cabinets, reached as given.
	Contacts  map[string]requests.Contact
	Templates map[notify.Kind]notify.Template
	Prefs     notify.Preferences
}

// TestStore is the contract of requests.Store's own records: versions and
// ErrStale, messages staged only with a successful save, the indexes as
// InboxOf, State.Awaiting and DueAt define them, pages in id order, the
// deputies, the settings and the request numbers.
func TestStore(t *testing.T, newEnv func(t *testing.T) Env) {
	ctx := context.Background()
	is := func(t *testing.T, err, want error) {
		t.Helper()
		if !errors.Is(err, want) {
			t.Fatalf("got %v, want %v", err, want)
		}
	}
	msg := func(orgID, id string, at time.Time) notify.Message {
		return notify.Message{ID: id, OrganizationID: orgID, Kind: "request", Channel: domain.ChannelSMS, To: "+79160000000",
			Text: "Заявка", CreatedAt: at}
	}
	request := func(orgID, id, employee string, st requests.State, at time.Time) requests.Request {
		return requests.Request{ID: id, OrganizationID: orgID, Number: 1, Type: requests.TypeVacation,
			Fields:     requests.Fields{StartDate: "2026-12-14", EndDate: "2026-12-27", Days: 14},
			EmployeeID: employee, EmployeeName: "Иванов Иван Иванович", DepartmentID: "D1", State: st, Version: 1,
			History:   []requests.Step{{At: at, Action: requests.ActSubmit, By: employee, To: st}},
			CreatedAt: at, UpdatedAt: at}
	}

	t.Run("ConditionalWritesStageOnlyWithSuccess", func(t *testing.T) {
		e := newEnv(t)
		org, at := notifytest.NewID("org"), notifytest.Era(2001)
		r := request(org, "R1", "e", requests.PendingApproval, at)
		r.ApproverID, r.NeedsApproval = "a", true
		if err := e.Store.SaveRequest(ctx, r, 0, msg(org, "m1", at)); err != nil {
			t.Fatal(err)
		}
		is(t, e.Store.SaveRequest(ctx, r, 0, msg(org, "m2", at)), requests.ErrStale)
		r2 := r
		r2.Version = 3
		is(t, e.Store.SaveRequest(ctx, r2, 2, msg(org, "m3", at)), requests.ErrStale)
		is(t, e.Store.SaveRequest(ctx, request(org, "R9", "e", requests.PendingApproval, at), 1), requests.ErrStale)
		r2.Version, r2.State, r2.ApproverID = 2, requests.ToProcess, ""
		if err := e.Store.SaveRequest(ctx, r2, 1, msg(org, "m4", at)); err != nil {
			t.Fatal(err)
		}
		// A message staged before: the save is a lost race, nothing written.
		r3 := r2
		r3.Version, r3.State = 3, requests.InWork
		is(t, e.Store.SaveRequest(ctx, r3, 2, msg(org, "m4", at)), requests.ErrStale)
		staged := e.Staged(t, org)
		slices.Sort(staged)
		if fmt.Sprint(staged) != "[m1 m4]" {
			t.Fatalf("staged %v, want only the messages of successful saves [m1 m4]", staged)
		}
		got, err := e.Store.Request(ctx, org, "R1")
		if err != nil || got.Version != 2 || got.State != requests.ToProcess || len(got.History) != 1 || !got.History[0].At.Equal(at) {
			t.Fatalf("read back %+v %v", got, err)
		}
		// What the caller holds is a copy.
		got.History = append(got.History, requests.Step{Action: requests.ActApprove})
		if again, _ := e.Store.Request(ctx, org, "R1"); len(again.History) != 1 {
			t.Fatal("a read request shares its history with the store")
		}
		_, err = e.Store.Request(ctx, notifytest.NewID("org"), "R1")
		is(t, err, domain.ErrNotFound)
	})

	t.Run("ConcurrentStepsOneWins", func(t *testing.T) {
		e := newEnv(t)
		org, at := notifytest.NewID("org"), notifytest.Era(2001)
		r := request(org, "R1", "e", requests.PendingApproval, at)
		r.ApproverID = "a"
		if err := e.Store.SaveRequest(ctx, r, 0); err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		var wins atomic.Int32
		for i := range 6 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				next := r
				next.Version, next.State, next.ApproverID = 2, requests.ToProcess, ""
				switch err := e.Store.SaveRequest(ctx, next, 1, msg(org, fmt.Sprintf("step-%d", i), at)); {
				case err == nil:
					wins.Add(1)
				case !errors.Is(err, requests.ErrStale):
					t.Error(err)
				}
			}()
		}
		wg.Wait()
		if staged := e.Staged(t, org); wins.Load() != 1 || len(staged) != 1 {
			t.Fatalf("%d steps won, staged %v; want one", wins.Load(), staged)
		}
	})

	t.Run("IndexesFollowTheState", func(t *testing.T) {
		e := newEnv(t)
		org, other, at := notifytest.NewID("org"), notifytest.NewID("org"), notifytest.Era(2001)
		put := func(org, id, emp string, st requests.State, approver, processor string, due time.Time) {
			t.Helper()
			r := request(org, id, emp, st, at)
			r.ApproverID, r.ProcessorID, r.DueAt = approver, processor, due
			if err := e.Store.SaveRequest(ctx, r, 0); err != nil {
				t.Fatal(err)
			}
		}
		put(org, "R1", "e1", requests.PendingApproval, "a", "", at.Add(2*time.Hour))
		put(org, "R2", "e2", requests.PendingApproval, "b", "", at.Add(time.Hour))
		put(org, "R3", "e1", requests.NoApprover, "", "", time.Time{})
		put(org, "R4", "e1", requests.ToProcess, "", "p", time.Time{})
		put(org, "R5", "e2", requests.InWork, "", "", time.Time{})
		put(org, "R6", "e1", requests.Completed, "", "p", time.Time{})
		put(org, "R7", "e1", requests.PendingApproval, "a", "", at.Add(-time.Hour))
		put(other, "R8", "e1", requests.PendingApproval, "a", "", at)

		ids := func(rs []requests.Request, err error) string {
			t.Helper()
			if err != nil {
				t.Fatal(err)
			}
			var out []string
			for _, r := range rs {
				if r.OrganizationID == org || r.OrganizationID == other {
					out = append(out, r.ID)
				}
			}
			return fmt.Sprint(out)
		}
		check := func(name, got, want string) {
			t.Helper()
			if got != want {
				t.Errorf("%s = %v, want %v", name, got, want)
			}
		}
		approvals := requests.Inbox{Kind: requests.InboxApprovals, Owner: "a"}
		check("approvals of a", ids(e.Store.InboxRequests(ctx, org, approvals, "", 10)), "[R1 R7]")
		check("approvals of a after R1", ids(e.Store.InboxRequests(ctx, org, approvals, "R1", 10)), "[R7]")
		check("approvals of a, 1", ids(e.Store.InboxRequests(ctx, org, approvals, "", 1)), "[R1]")
		check("no approver", ids(e.Store.InboxRequests(ctx, org, requests.Inbox{Kind: requests.InboxNoApprover}, "", 10)), "[R3]")
		check("processing of p", ids(e.Store.InboxRequests(ctx, org, requests.Inbox{Kind: requests.InboxProcessing, Owner: "p"}, "", 10)), "[R4]")
		check("processing of the responsible person", ids(e.Store.InboxRequests(ctx, org, requests.Inbox{Kind: requests.InboxProcessing}, "", 10)), "[R5]")
		check("awaiting", ids(e.Store.Awaiting(ctx, org, requests.AwaitingPlace{}, 10)), "[R1 R2 R3 R7]")
		check("awaiting after R2, 1", ids(e.Store.Awaiting(ctx, org, requests.AwaitingPlace{DepartmentID: "D1", ID: "R2"}, 1)), "[R3]")
		check("employee e1", ids(e.Store.EmployeeRequests(ctx, org, "e1", "", 10)), "[R7 R6 R4 R3 R1]")
		check("employee e1 before R4", ids(e.Store.EmployeeRequests(ctx, org, "e1", "R4", 2)), "[R3 R1]")
		check("due", ids(e.Store.DueRequests(ctx, at.Add(time.Hour), 10)), "[R7 R8 R2]")

		// A step moves the request between indexes.
		r, _ := e.Store.Request(ctx, org, "R1")
		r.State, r.ApproverID, r.ProcessorID, r.DueAt, r.Version = requests.ToProcess, "", "p", time.Time{}, 2
		if err := e.Store.SaveRequest(ctx, r, 1); err != nil {
			t.Fatal(err)
		}
		check("approvals of a after a step", ids(e.Store.InboxRequests(ctx, org, approvals, "", 10)), "[R7]")
		check("processing of p after a step", ids(e.Store.InboxRequests(ctx, org, requests.Inbox{Kind: requests.InboxProcessing, Owner: "p"}, "", 10)), "[R1 R4]")
		check("awaiting after a step", ids(e.Store.Awaiting(ctx, org, requests.AwaitingPlace{}, 10)), "[R2 R3 R7]")
		check("due after a step", ids(e.Store.DueRequests(ctx, at.Add(3*time.Hour), 10)), "[R7 R8 R2]")
	})

	t.Run("AwaitingByDepartmentAndEmployee", func(t *testing.T) {
		e := newEnv(t)
		org, other, at := notifytest.NewID("org"), notifytest.NewID("org"), notifytest.Era(2001)
		put := func(org, id, emp, dept string, st requests.State) requests.Request {
			t.Helper()
			r := request(org, id, emp, st, at)
			r.DepartmentID = dept
			if st == requests.PendingApproval {
				r.ApproverID = "a"
			}
			if err := e.Store.SaveRequest(ctx, r, 0); err != nil {
				t.Fatal(err)
			}
			return r
		}
		// "D1" is a prefix of "D10": one department's range holds no other's.
		put(org, "R1", "e1", "D10", requests.PendingApproval)
		put(org, "R2", "e2", "D1", requests.NoApprover)
		put(org, "R3", "e1", "D1", requests.PendingApproval)
		put(org, "R4", "e1", "D1", requests.ToProcess)
		put(org, "R5", "e3", "", requests.PendingApproval)
		r6 := put(org, "R6", "e1", "D2", requests.PendingApproval)
		put(other, "R7", "e1", "D1", requests.PendingApproval)
		ids := func(rs []requests.Request, err error) string {
			t.Helper()
			if err != nil {
				t.Fatal(err)
			}
			var out []string
			for _, r := range rs {
				out = append(out, r.ID)
			}
			return fmt.Sprint(out)
		}
		check := func(name, got, want string) {
			t.Helper()
			if got != want {
				t.Errorf("%s = %v, want %v", name, got, want)
			}
		}
		check("awaiting in D1", ids(e.Store.AwaitingIn(ctx, org, "D1")), "[R2 R3]")
		check("awaiting in D10", ids(e.Store.AwaitingIn(ctx, org, "D10")), "[R1]")
		check("awaiting in D9", ids(e.Store.AwaitingIn(ctx, org, "D9")), "[]")
		check("awaiting of e1", ids(e.Store.AwaitingOf(ctx, org, "e1")), "[R1 R3 R6]")
		check("awaiting of e4", ids(e.Store.AwaitingOf(ctx, org, "e4")), "[]")
		check("awaiting, by department", ids(e.Store.Awaiting(ctx, org, requests.AwaitingPlace{}, 10)), "[R5 R2 R3 R1 R6]")
		check("awaiting after R3, 2", ids(e.Store.Awaiting(ctx, org, requests.AwaitingPlaceOf(requests.Request{DepartmentID: "D1", ID: "R3"}), 2)), "[R1 R6]")
		// A request that changes department moves in the index.
		r6.DepartmentID, r6.Version = "D1", 2
		if err := e.Store.SaveRequest(ctx, r6, 1); err != nil {
			t.Fatal(err)
		}
		check("awaiting in D1 after a move", ids(e.Store.AwaitingIn(ctx, org, "D1")), "[R2 R3 R6]")
		check("awaiting in D2 after a move", ids(e.Store.AwaitingIn(ctx, org, "D2")), "[]")
	})

	t.Run("DeputiesSettingsAndNumbers", func(t *testing.T) {
		e := newEnv(t)
		org, at := notifytest.NewID("org"), notifytest.Era(2001)
		_, err := e.Store.Deputy(ctx, org, "m1")
		is(t, err, domain.ErrNotFound)
		d := requests.Deputy{OrganizationID: org, ManagerID: "m1", DeputyID: "d", From: "2001-01-01", To: "2001-01-31", SetBy: "m1", UpdatedAt: at, Version: 1}
		if err := e.Store.SaveDeputy(ctx, d, 0); err != nil {
			t.Fatal(err)
		}
		is(t, e.Store.SaveDeputy(ctx, d, 0), requests.ErrStale)
		d2 := d
		d2.ManagerID = "m0"
		if err := e.Store.SaveDeputy(ctx, d2, 0); err != nil {
			t.Fatal(err)
		}
		if got, err := e.Store.Deputy(ctx, org, "m1"); err != nil || got != d {
			t.Fatalf("deputy %+v %v", got, err)
		}
		of, err := e.Store.DeputiesOf(ctx, org, "d")
		if err != nil || len(of) != 2 || of[0].ManagerID != "m0" || of[1].ManagerID != "m1" {
			t.Fatalf("deputies of %+v %v", of, err)
		}
		d.DeputyID, d.Version = "x", 2
		is(t, e.Store.SaveDeputy(ctx, d, 2), requests.ErrStale)
		if err := e.Store.SaveDeputy(ctx, d, 1); err != nil {
			t.Fatal(err)
		}
		if of, _ := e.Store.DeputiesOf(ctx, org, "d"); len(of) != 1 {
			t.Fatalf("a changed deputy leaves the old one's list: %+v", of)
		}
		if err := e.Store.DeleteDeputy(ctx, org, "m1"); err != nil {
			t.Fatal(err)
		}
		_, err = e.Store.Deputy(ctx, org, "m1")
		is(t, err, domain.ErrNotFound)
		if of, _ := e.Store.DeputiesOf(ctx, org, "x"); len(of) != 0 {
			t.Fatalf("a deleted deputy is listed: %+v", of)
		}

		st, err := e.Store.Settings(ctx, org)
		if err != nil || st.Version != 0 || st.Types == nil || st.Processing == nil {
			t.Fatalf("defaults %+v %v", st, err)
		}
		st.RemindAfterHours, st.Version = 7, 1
		if err := e.Store.SaveSettings(ctx, st, 0); err != nil {
			t.Fatal(err)
		}
		is(t, e.Store.SaveSettings(ctx, st, 0), requests.ErrStale)
		if got, _ := e.Store.Settings(ctx, org); got.RemindAfterHours != 7 || got.Version != 1 || !reflect.DeepEqual(got.Types, st.Types) {
			t.Fatalf("saved %+v", got)
		}

		for want := int64(1); want <= 3; want++ {
			if n, err := e.Store.NextNumber(ctx, org); err != nil || n != want {
				t.Fatalf("number %d %v, want %d", n, err, want)
			}
		}
		if n, _ := e.Store.NextNumber(ctx, notifytest.NewID("org")); n != 1 {
			t.Fatalf("another organization counts on its own: %d", n)
		}
	})
	t.Run("ReadTogetherAsOneByOne", func(t *testing.T) {
		e := newEnv(t)
		org := notifytest.NewID("org")
		at := notifytest.Era(2001)
		// Read of nothing, and of an organization nobody wrote: defaults.
		if f, err := e.Store.Read(ctx, org, requests.Lookup{}); err != nil || f.Org != nil || f.Settings != nil || len(f.Employees) != 0 {
			t.Fatalf("empty lookup: %+v %v", f, err)
		}
		f, err := e.Store.Read(ctx, org, requests.Lookup{Settings: true, Employees: []string{"E1"}, Contacts: []string{"E1"}, Director: true})
		if err != nil || f.Settings == nil || f.Settings.Version != 0 || f.Settings.Types == nil || f.Org != nil ||
			len(f.Employees)+len(f.Contacts) != 0 || f.Director != "" {
			t.Fatalf("an organization nobody wrote: %+v %v", f, err)
		}
		if e.Seed == nil {
			t.Skip("the env cannot seed what others write")
		}
		person := notifytest.NewID("person")
		w := World{
			Org: domain.Organization{ID: org, Name: "ООО «Ромашка»", INN: "7707083893", ResponsiblePersonID: person, CreatedAt: at},
			Responsible: domain.Person{ID: person, OrganizationID: org, Role: domain.RoleResponsiblePerson, FullName: "Петрова Анна",
				Phone: "+79169876543", Email: "hr@romashka.ru", CreatedAt: at},
			Employees: []requests.Employee{
				{ID: "E1", FullName: "Иванов Иван Иванович", DepartmentID: "D1", Published: true},
				{ID: "E2", FullName: "Петрова Анна", DepartmentID: "D2", Published: true},
				{ID: "E3", FullName: "Сидоров Пётр", DepartmentID: "D2"}},
			Departments: []requests.Department{{ID: "D1", HeadID: "E1"}, {ID: "D2", ParentID: "D1", HeadID: "E2"}},
			Director:    "E1",
			Contacts: map[string]requests.Contact{"E1": {Channel: domain.ChannelSMS, To: "+79161234567"},
				"E2": {Channel: domain.ChannelEmail, To: "petrova@romashka.ru"}},
			Templates: map[notify.Kind]notify.Template{notify.KindRequestSubmitted: {SMS: "Новая заявка: {link}", Subject: "Заявка", Body: "{link}"}},
			Prefs: notify.Preferences{OrganizationID: org, Notices: map[notify.Kind]bool{},
				QuietHours: &notify.QuietHours{Start: "22:00", End: "08:00", TimeZone: "Europe/Moscow"}},
		}
		e.Seed(t, w)
		dep := requests.Deputy{OrganizationID: org, ManagerID: "E1", DeputyID: "E2", From: "2001-01-01", To: "2001-01-31", SetBy: "E1", UpdatedAt: at, Version: 1}
		if err := e.Store.SaveDeputy(ctx, dep, 0); err != nil {
			t.Fatal(err)
		}
		st := requests.DefaultSettings(org)
		st.Processing[requests.TypeVacation] = requests.Rule{ProcessorID: "E2", Departments: map[string]string{"D2": "E1"}}
		st.Version = 1
		if err := e.Store.SaveSettings(ctx, st, 0); err != nil {
			t.Fatal(err)
		}

		l := requests.Lookup{OrgWide: true, Director: true, Employees: []string{"E1", "E2", "E3", "E9"},
			Departments: []string{"D1", "D2", "D9"}, Deputies: []string{"E1", "E2"}, Contacts: []string{"E1", "E2", "E3", "E9"},
			Responsible: person}
		f, err = e.Store.Read(ctx, org, l)
		if err != nil {
			t.Fatal(err)
		}
		// What the world holds.
		if f.Org == nil || f.Org.Name != w.Org.Name || f.Org.ResponsiblePersonID != person {
			t.Errorf("organization %+v", f.Org)
		}
		if f.Settings == nil || f.Settings.Version != 1 || f.Settings.ProcessorFor(requests.TypeVacation, "D2") != "E1" {
			t.Errorf("settings %+v", f.Settings)
		}
		if !reflect.DeepEqual(f.Templates, w.Templates) {
			t.Errorf("templates %+v, want %+v", f.Templates, w.Templates)
		}
		if f.Prefs == nil || !reflect.DeepEqual(f.Prefs.QuietHours, w.Prefs.QuietHours) {
			t.Errorf("preferences %+v", f.Prefs)
		}
		if f.Director != "E1" {
			t.Errorf("director %q", f.Director)
		}
		wantEmployees := map[string]requests.Employee{}
		for _, emp := range w.Employees {
			wantEmployees[emp.ID] = emp
		}
		if !reflect.DeepEqual(f.Employees, wantEmployees) {
			t.Errorf("employees %+v, want %+v", f.Employees, wantEmployees)
		}
		wantDepts := map[string]requests.Department{"D1": w.Departments[0], "D2": w.Departments[1]}
		if !reflect.DeepEqual(f.Departments, wantDepts) {
			t.Errorf("departments %+v, want %+v", f.Departments, wantDepts)
		}
		if len(f.Deputies) != 1 || f.Deputies["E1"] != dep {
			t.Errorf("deputies %+v, want E1's", f.Deputies)
		}
		wantContacts := map[string]requests.Contact{"E1": w.Contacts["E1"], "E2": w.Contacts["E2"], "": {Channel: domain.ChannelSMS, To: "+79169876543"}}
		if !reflect.DeepEqual(f.Contacts, wantContacts) {
			t.Errorf("contacts %+v, want %+v", f.Contacts, wantContacts)
		}

		// As the reads one by one return it.
		if o, err := e.Store.Organization(ctx, org); err != nil || f.Org == nil || o != *f.Org {
			t.Errorf("organization %+v %v, read together %+v", o, err, f.Org)
		}
		if s, err := e.Store.Settings(ctx, org); err != nil || f.Settings == nil || !reflect.DeepEqual(s, *f.Settings) {
			t.Errorf("settings %+v %v, read together %+v", s, err, f.Settings)
		}
		if tp, err := e.Store.Templates(ctx, org); err != nil || !reflect.DeepEqual(tp, f.Templates) {
			t.Errorf("templates %+v %v, read together %+v", tp, err, f.Templates)
		}
		if p, err := e.Store.NotificationPreferences(ctx, org); err != nil || f.Prefs == nil || !reflect.DeepEqual(p, *f.Prefs) {
			t.Errorf("preferences %+v %v, read together %+v", p, err, f.Prefs)
		}
		for _, id := range l.Employees {
			one, err := e.Store.Employee(ctx, org, id)
			if together, ok := f.Employees[id]; (err == nil) != ok || one != together {
				t.Errorf("employee %s: %+v %v, read together %+v", id, one, err, together)
			}
			c, ok, err := e.Store.EmployeeContact(ctx, org, id)
			if together, tok := f.Contacts[id]; err != nil || ok != tok || c != together {
				t.Errorf("contact %s: %+v %v %v, read together %+v", id, c, ok, err, together)
			}
		}
		for _, id := range l.Departments {
			one, ok, err := e.Store.Department(ctx, org, id)
			if together, tok := f.Departments[id]; err != nil || ok != tok || one != together {
				t.Errorf("department %s: %+v %v %v, read together %+v", id, one, ok, err, together)
			}
		}
		if c, ok, err := e.Store.ResponsibleContact(ctx, org); err != nil || !ok || c != f.Contacts[""] {
			t.Errorf("responsible contact %+v %v %v, read together %+v", c, ok, err, f.Contacts[""])
		}
	})
}

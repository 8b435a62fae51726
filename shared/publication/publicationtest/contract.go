package publicationtest

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"sort"
	"testing"
	"time"

	"github.com/kabinet/kabinet/shared/domain"
	"github.com/kabinet/kabinet/shared/notify/notifytest"
	"github.com/kabinet/kabinet/shared/publication"
)

// TestStore is the contract of publication.Store: what is written reads
// back, unpublished rows leave the lists, listing pages in index order with
// a cursor, snapshots count their chunks and close once, and the lock is
// held by one owner until it expires.
func TestStore(t *testing.T, newStore func(t *testing.T) publication.Store) {
	ctx := context.Background()
	deadline := func() time.Time { return time.Now().Add(20 * time.Second) }
	emp := func(id, dept string, eligible bool) publication.Employee {
		e := publication.Employee{ExternalID: id, LastName: "Фамилия" + id, FirstName: "Имя", DepartmentID: dept,
			Phone: "+79160000000", Email: domain.Email(id + "@x.ru"), Version: 3}
		if !eligible {
			e.CabinetProblems = []publication.CabinetProblem{{Field: "phone", Code: "missing", Message: "нет телефона"}}
		}
		return e
	}

	t.Run("WrittenRowsReadBackAndUnpublish", func(t *testing.T) {
		s := newStore(t)
		org, now := notifytest.NewID("org"), notifytest.Era(1985)
		depts := []publication.Department{{ExternalID: "D2", Name: "Склад", ParentID: "D1", Version: 2}, {ExternalID: "D1", Name: "Офис", HeadID: "E1", Version: 1}}
		emps := []publication.Employee{emp("E1", "D1", true), emp("E2", "D2", false)}
		failed, err := s.Write(ctx, org, publication.Writes{Departments: depts, Employees: emps,
			Director: &publication.DirectorRow{EmployeeID: "E1", Version: 1}}, now, deadline())
		if err != nil || len(failed) != 0 {
			t.Fatalf("write %v %v", failed, err)
		}
		all, err := s.Departments(ctx, org)
		if err != nil || len(all) != 2 || all[0].ExternalID != "D1" || all[1].Department != depts[0] || !all[1].Published || all[1].Hash != depts[0].Hash() {
			t.Fatalf("departments %+v %v", all, err)
		}
		some, err := s.DepartmentsByID(ctx, org, []string{"D2", "D9"})
		if err != nil || len(some) != 1 || some[0].ExternalID != "D2" {
			t.Fatalf("by id %+v %v", some, err)
		}
		states, err := s.EmployeeStates(ctx, org, []string{"E1", "E2", "E9"})
		want := map[string]publication.StoredState{
			"E1": {Version: 3, Hash: emps[0].Hash(), Published: true, Eligible: true, DepartmentID: "D1"},
			"E2": {Version: 3, Hash: emps[1].Hash(), Published: true, Eligible: false, DepartmentID: "D2"}}
		if err != nil || !reflect.DeepEqual(states, want) {
			t.Fatalf("states %+v %v", states, err)
		}
		e, err := s.Employee(ctx, org, "E2")
		if err != nil || !reflect.DeepEqual(e.Employee, emps[1]) || !e.Published || !e.UpdatedAt.Equal(now) {
			t.Fatalf("employee %+v %v", e, err)
		}
		_, err = s.Employee(ctx, org, "E9")
		if !errors.Is(err, domain.ErrNotFound) {
			t.Fatalf("absent employee: %v", err)
		}
		pub, err := s.Published(ctx, org)
		if err != nil || fmt.Sprint(pub) != "[{department D1} {department D2} {employee E1} {employee E2}]" {
			t.Fatalf("published %v %v", pub, err)
		}
		later := now.Add(time.Hour)
		if _, err := s.Unpublish(ctx, org, []publication.RowRef{{Kind: publication.KindEmployee, ExternalID: "E1"},
			{Kind: publication.KindDepartment, ExternalID: "D2"}, {Kind: publication.KindEmployee, ExternalID: "E9"}}, later); err != nil {
			t.Fatal(err)
		}
		if e, _ := s.Employee(ctx, org, "E1"); e.Published || !e.UpdatedAt.Equal(later) || e.Version != 3 {
			t.Fatalf("unpublished %+v", e)
		}
		if _, err := s.Employee(ctx, org, "E9"); !errors.Is(err, domain.ErrNotFound) {
			t.Fatalf("unpublishing created a row: %v", err)
		}
		if st, _ := s.EmployeeStates(ctx, org, []string{"E1"}); st["E1"].Published || st["E1"].Version != 3 {
			t.Fatalf("state %+v", st)
		}
		if pub, _ := s.Published(ctx, org); fmt.Sprint(pub) != "[{department D1} {employee E2}]" {
			t.Fatalf("published %v", pub)
		}
		if list, _, _ := s.Employees(ctx, org, publication.ListFilter{}, 10, ""); len(list) != 1 || list[0].ExternalID != "E2" {
			t.Fatalf("list %+v", list)
		}
	})

	t.Run("DirectorAndRerouteMarker", func(t *testing.T) {
		s := newStore(t)
		org, other, now := notifytest.NewID("org"), notifytest.NewID("org"), notifytest.Era(1985)
		if dir, err := s.Director(ctx, org); err != nil || dir != "" {
			t.Fatalf("director of an empty organization = %q, %v", dir, err)
		}
		if _, err := s.Write(ctx, org, publication.Writes{Employees: []publication.Employee{emp("E1", "", true)},
			Director: &publication.DirectorRow{EmployeeID: "E1", Version: 1}}, now, deadline()); err != nil {
			t.Fatal(err)
		}
		if dir, err := s.Director(ctx, org); err != nil || dir != "E1" {
			t.Fatalf("director = %q, %v", dir, err)
		}
		pending := func(org string) (publication.StructureChange, int64) {
			t.Helper()
			c, v, err := s.PendingReroute(ctx, org)
			if err != nil {
				t.Fatal(err)
			}
			return c, v
		}
		if c, v := pending(org); !c.Empty() || v != 0 {
			t.Fatalf("pending before any mark: %+v v%d", c, v)
		}
		v1, err := s.MarkReroute(ctx, org, publication.StructureChange{Departments: []string{"D2", "D1"}, Employees: []string{"E1"}})
		if err != nil {
			t.Fatal(err)
		}
		v2, err := s.MarkReroute(ctx, org, publication.StructureChange{Departments: []string{"D3", "D1"}})
		if err != nil || v2 <= v1 {
			t.Fatalf("second mark: v%d after v%d, %v", v2, v1, err)
		}
		c, v := pending(org)
		if fmt.Sprint(sortedCopy(c.Departments), sortedCopy(c.Employees), c.All) != "[D1 D2 D3] [E1] false" || v != v2 {
			t.Fatalf("pending after two marks: %+v v%d, want the union at v%d", c, v, v2)
		}
		if c, v := pending(other); !c.Empty() || v != 0 {
			t.Fatalf("another organization's marker: %+v v%d", c, v)
		}
		// A clear of an older version leaves the newer mark.
		if err := s.ClearReroute(ctx, org, v1); err != nil {
			t.Fatal(err)
		}
		if _, v := pending(org); v != v2 {
			t.Fatalf("a stale clear removed the marker (v%d)", v)
		}
		v3, err := s.MarkReroute(ctx, org, publication.StructureChange{All: true})
		if err != nil {
			t.Fatal(err)
		}
		if c, v := pending(org); !c.All || v != v3 {
			t.Fatalf("pending after All: %+v v%d", c, v)
		}
		if err := s.ClearReroute(ctx, org, v3); err != nil {
			t.Fatal(err)
		}
		if c, v := pending(org); !c.Empty() || v != 0 {
			t.Fatalf("pending after clear: %+v v%d", c, v)
		}
	})

	t.Run("EmployeesPageInIndexOrder", func(t *testing.T) {
		s := newStore(t)
		org, now := notifytest.NewID("org"), notifytest.Era(1985)
		emps := []publication.Employee{emp("E5", "B", true), emp("E1", "B", false), emp("E3", "A", true), emp("E2", "A", false), emp("E4", "", false)}
		if _, err := s.Write(ctx, org, publication.Writes{Employees: emps}, now, deadline()); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Write(ctx, notifytest.NewID("org"), publication.Writes{Employees: emps}, now, deadline()); err != nil {
			t.Fatal(err)
		}
		list := func(f publication.ListFilter, limit int) string {
			t.Helper()
			var ids []string
			cursor := ""
			for range 20 {
				page, next, err := s.Employees(ctx, org, f, limit, cursor)
				if err != nil {
					t.Fatal(err)
				}
				for _, e := range page {
					ids = append(ids, e.ExternalID)
				}
				if cursor = next; cursor == "" {
					return fmt.Sprint(ids)
				}
			}
			t.Fatal("paging does not end")
			return ""
		}
		for _, limit := range []int{1, 2, 10} {
			if got := list(publication.ListFilter{}, limit); got != "[E4 E2 E3 E1 E5]" {
				t.Fatalf("all by %d: %s", limit, got)
			}
			if got := list(publication.ListFilter{DepartmentID: "B"}, limit); got != "[E1 E5]" {
				t.Fatalf("department by %d: %s", limit, got)
			}
			if got := list(publication.ListFilter{CannotGetCabinet: true}, limit); got != "[E1 E2 E4]" {
				t.Fatalf("cannot get a cabinet by %d: %s", limit, got)
			}
			if got := list(publication.ListFilter{CannotGetCabinet: true, DepartmentID: "A"}, limit); got != "[E2]" {
				t.Fatalf("both by %d: %s", limit, got)
			}
		}
		_, _, err := s.Employees(ctx, org, publication.ListFilter{}, 1, "garbage")
		if de, ok := domain.AsError(err); !ok || de.Code != domain.CodeValidationFailed {
			t.Fatalf("bad cursor: %v", err)
		}
	})

	t.Run("SnapshotsCountChunksAndCloseOnce", func(t *testing.T) {
		s := newStore(t)
		org, now := notifytest.NewID("org"), notifytest.Era(1985)
		snap := publication.Snapshot{ID: "S1", OrganizationID: org, Status: publication.SnapshotOpen, CreatedAt: now, ExpiresAt: now.Add(time.Hour)}
		if err := s.BeginSnapshot(ctx, snap); err != nil {
			t.Fatal(err)
		}
		if err := s.BeginSnapshot(ctx, snap); err == nil {
			t.Fatal("a snapshot id is used once")
		}
		_, err := s.Snapshot(ctx, org, "S9")
		if !errors.Is(err, domain.ErrNotFound) {
			t.Fatalf("absent snapshot: %v", err)
		}
		e1, d1, e2 := publication.RowRef{Kind: publication.KindEmployee, ExternalID: "E1"},
			publication.RowRef{Kind: publication.KindDepartment, ExternalID: "D1"}, publication.RowRef{Kind: publication.KindEmployee, ExternalID: "E2"}
		if err := s.AddSnapshotChunk(ctx, org, "S1", "c1", []publication.RowRef{e1, d1}); err != nil {
			t.Fatal(err)
		}
		if err := s.AddSnapshotChunk(ctx, org, "S1", "c2", []publication.RowRef{e2, e1}); err != nil {
			t.Fatal(err)
		}
		got, err := s.Snapshot(ctx, org, "S1")
		if err != nil || got.Chunks != 2 || got.Status != publication.SnapshotOpen || !got.CreatedAt.Equal(now) || !got.ExpiresAt.Equal(snap.ExpiresAt) {
			t.Fatalf("snapshot %+v %v", got, err)
		}
		seen, err := s.SnapshotSeen(ctx, org, "S1")
		if err != nil || !reflect.DeepEqual(seen, map[publication.RowRef]bool{e1: true, d1: true, e2: true}) {
			t.Fatalf("seen %v %v", seen, err)
		}
		if err := s.CloseSnapshot(ctx, org, "S1", now); err != nil {
			t.Fatal(err)
		}
		err = s.CloseSnapshot(ctx, org, "S1", now)
		if de, ok := domain.AsError(err); !ok || de.Code != domain.CodeSnapshotClosed {
			t.Fatalf("closed twice: %v", err)
		}
		if got, _ := s.Snapshot(ctx, org, "S1"); got.Status != publication.SnapshotCommitted {
			t.Fatalf("status %s", got.Status)
		}
	})

	t.Run("ConsentReadsBackInEveryStateAndCanBeWithdrawn", func(t *testing.T) {
		s := newStore(t)
		org, now := notifytest.NewID("org"), notifytest.Era(1985)
		consents := map[string]domain.Consent{
			"C1": {State: domain.ConsentGiven, Date: "2023-02-01"},
			"C2": {State: domain.ConsentRefused, Date: "2024-11-30"},
			"C3": {State: domain.ConsentNotRequired},
			"C4": {},
		}
		var emps []publication.Employee
		for _, id := range []string{"C1", "C2", "C3", "C4"} {
			e := emp(id, "D", true)
			e.Consent = consents[id]
			emps = append(emps, e)
		}
		if _, err := s.Write(ctx, org, publication.Writes{Employees: emps}, now, deadline()); err != nil {
			t.Fatal(err)
		}
		for _, want := range emps {
			got, err := s.Employee(ctx, org, want.ExternalID)
			if err != nil || got.Consent != want.Consent || got.Hash() != want.Hash() {
				t.Fatalf("employee %s: consent %+v (hash %s), want %+v (%s): %v", want.ExternalID, got.Consent, got.Hash(), want.Consent, want.Hash(), err)
			}
		}
		page, _, err := s.Employees(ctx, org, publication.ListFilter{}, 10, "")
		if err != nil || len(page) != 4 {
			t.Fatalf("list %+v %v", page, err)
		}
		for _, got := range page {
			if got.Consent != consents[got.ExternalID] {
				t.Fatalf("listed %s: consent %+v, want %+v", got.ExternalID, got.Consent, consents[got.ExternalID])
			}
		}
		// A row published again without its consent no longer has one.
		again := emps[0]
		again.Consent, again.Version = domain.Consent{}, 4
		if _, err := s.Write(ctx, org, publication.Writes{Employees: []publication.Employee{again}}, now, deadline()); err != nil {
			t.Fatal(err)
		}
		if got, err := s.Employee(ctx, org, "C1"); err != nil || !got.Consent.IsZero() || got.Version != 4 {
			t.Fatalf("consent not withdrawn: %+v %v", got, err)
		}
	})

	t.Run("LockHasOneOwnerUntilItExpires", func(t *testing.T) {
		s := newStore(t)
		org, now := notifytest.NewID("org"), notifytest.Era(1985)
		lock := func(owner string, until, at time.Time, want bool) {
			t.Helper()
			if ok, err := s.Lock(ctx, org, owner, until, at); err != nil || ok != want {
				t.Fatalf("lock by %s at %v: %v %v, want %v", owner, at, ok, err, want)
			}
		}
		lock("a", now.Add(time.Minute), now, true)
		lock("b", now.Add(time.Minute), now.Add(time.Second), false)
		if err := s.Unlock(ctx, org, "b"); err != nil {
			t.Fatal(err)
		}
		lock("b", now.Add(time.Minute), now.Add(time.Second), false) // b cannot release a's lock
		if err := s.Unlock(ctx, org, "a"); err != nil {
			t.Fatal(err)
		}
		lock("b", now.Add(time.Minute), now.Add(time.Second), true)
		lock("c", now.Add(2*time.Minute), now.Add(time.Minute+time.Millisecond), true) // b's lock expired
		other := notifytest.NewID("org")
		if ok, err := s.Lock(ctx, other, "d", now.Add(time.Minute), now); err != nil || !ok {
			t.Fatalf("another organization's lock: %v %v", ok, err)
		}
	})
}

func sortedCopy(s []string) []string {
	out := append([]string(nil), s...)
	sort.Strings(out)
	return out
}

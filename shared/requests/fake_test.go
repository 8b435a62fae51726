package requests

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"sort"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kabinet/kabinet/shared/domain"
	"github.com/kabinet/kabinet/shared/notify"
	"github.com/kabinet/kabinet/shared/platform"
)

// fakeStore is an in-memory Store. It is faithful where the service relies
// on the store: conditional writes on Version (ErrStale otherwise), staged
// messages kept only when their save succeeds, the indexes as InboxOf,
// State.Awaiting and DueAt define them, pages in id order. Everything read
// or written is deep-copied, so a caller's changes never leak into it.
type fakeStore struct {
	mu sync.Mutex

	orgs        map[string]domain.Organization
	persons     map[string]domain.Person // by org/person
	settings    map[string]Settings
	employees   map[string]Employee // by org/id
	depts       map[string]Department
	directors   map[string]string
	deputies    map[string]Deputy // by org/manager
	numbers     map[string]int64
	requests    map[string]Request // by org/id
	contacts    map[string]Contact // by org/employee
	responsible map[string]Contact // by org
	prefs       map[string]notify.Preferences

	// outbox holds every message staged by a successful SaveRequest.
	outbox []notify.Message
	// stagedIDs are the ids in outbox, by org/id: a message is staged once,
	// and a save that would stage one again is a lost race (ErrStale), as
	// in the repository.
	stagedIDs map[string]bool
	// saves counts the successful writes of each request id.
	saves map[string]int
	// badVersions records writes whose new Version is not prevVersion+1.
	badVersions []string

	// beforeSave, when set, runs (unlocked) at the start of SaveRequest: a
	// test stages a concurrent write there.
	beforeSave func(r Request, prev int64)
	// failSave, when set, fails every SaveRequest with it.
	failSave error
	// awaitingRead counts the requests Awaiting, AwaitingIn and AwaitingOf
	// returned: what a re-routing read.
	awaitingRead int

	// reads counts the calls of Read, orgWideReads those reading the
	// org-wide items.
	reads, orgWideReads atomic.Int64
	// templates are the organizations' own templates.
	templates map[string]map[notify.Kind]notify.Template
}

func newFakeStore() *fakeStore {
	return &fakeStore{
		orgs: map[string]domain.Organization{}, persons: map[string]domain.Person{}, settings: map[string]Settings{},
		employees: map[string]Employee{}, depts: map[string]Department{}, directors: map[string]string{},
		deputies: map[string]Deputy{}, numbers: map[string]int64{}, requests: map[string]Request{},
		contacts: map[string]Contact{}, responsible: map[string]Contact{}, prefs: map[string]notify.Preferences{},
		saves: map[string]int{}, stagedIDs: map[string]bool{},
	}
}

var _ Store = (*fakeStore)(nil)

func k(org, id string) string { return org + "/" + id }

func copyRequest(r Request) Request {
	r.History = slices.Clone(r.History)
	return r
}

func copySettings(s Settings) Settings {
	s.Types = maps.Clone(s.Types)
	if s.Types == nil {
		s.Types = map[Type]TypeSetting{}
	}
	p := make(map[Type]Rule, len(s.Processing))
	for t, r := range s.Processing {
		r.Departments = maps.Clone(r.Departments)
		p[t] = r
	}
	s.Processing = p
	return s
}

// --- set-up helpers (tests only) ---

func (f *fakeStore) putOrg(o domain.Organization) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.orgs[o.ID] = o
}

func (f *fakeStore) putEmployee(org string, e Employee) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.employees[k(org, e.ID)] = e
}

// setPublished publishes or unpublishes a known employee.
func (f *fakeStore) setPublished(org, id string, published bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	e := f.employees[k(org, id)]
	e.ID, e.Published = id, published
	f.employees[k(org, id)] = e
}

func (f *fakeStore) moveEmployee(org, id, dept string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	e := f.employees[k(org, id)]
	e.DepartmentID = dept
	f.employees[k(org, id)] = e
}

func (f *fakeStore) putDept(org string, d Department) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.depts[k(org, d.ID)] = d
}

func (f *fakeStore) setDirector(org, id string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.directors[org] = id
}

func (f *fakeStore) putContact(org, employeeID string, c Contact) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if employeeID == "" {
		f.responsible[org] = c
		return
	}
	f.contacts[k(org, employeeID)] = c
}

func (f *fakeStore) putPerson(p domain.Person) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.persons[k(p.OrganizationID, p.ID)] = p
}

func (f *fakeStore) putPrefs(p notify.Preferences) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.prefs[p.OrganizationID] = p
}

// putRequest stores r as is, bypassing the conditions (set-up only).
func (f *fakeStore) putRequest(r Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.requests[k(r.OrganizationID, r.ID)] = copyRequest(r)
}

// bump changes a stored request behind the service's back, as a
// concurrent writer would.
func (f *fakeStore) bump(org, id string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	r := f.requests[k(org, id)]
	r.Version++
	f.requests[k(org, id)] = r
}

func (f *fakeStore) staged() []notify.Message {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.outbox)
}

func (f *fakeStore) saveCount(id string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.saves[id]
}

func (f *fakeStore) versionViolations() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.badVersions)
}

func (f *fakeStore) get(t testing.TB, org, id string) Request {
	t.Helper()
	f.mu.Lock()
	defer f.mu.Unlock()
	r, ok := f.requests[k(org, id)]
	if !ok {
		t.Fatalf("request %s not stored", id)
	}
	return copyRequest(r)
}

// --- Store ---

func (f *fakeStore) Organization(_ context.Context, orgID string) (domain.Organization, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	o, ok := f.orgs[orgID]
	if !ok {
		return domain.Organization{}, domain.ErrNotFound
	}
	return o, nil
}

func (f *fakeStore) Person(_ context.Context, orgID, personID string) (domain.Person, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	p, ok := f.persons[k(orgID, personID)]
	if !ok {
		return domain.Person{}, domain.ErrNotFound
	}
	return p, nil
}

func (f *fakeStore) Settings(_ context.Context, orgID string) (Settings, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	s, ok := f.settings[orgID]
	if !ok {
		return DefaultSettings(orgID), nil
	}
	return copySettings(s), nil
}

func (f *fakeStore) SaveSettings(_ context.Context, s Settings, prevVersion int64) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.settings[s.OrganizationID].Version != prevVersion {
		return ErrStale
	}
	f.settings[s.OrganizationID] = copySettings(s)
	return nil
}

func (f *fakeStore) Employee(_ context.Context, orgID, id string) (Employee, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	e, ok := f.employees[k(orgID, id)]
	if !ok || id == "" {
		return Employee{}, domain.ErrNotFound
	}
	return e, nil
}

func (f *fakeStore) Employees(_ context.Context, orgID string, ids []string) (map[string]Employee, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := map[string]Employee{}
	for _, id := range ids {
		if e, ok := f.employees[k(orgID, id)]; ok {
			out[id] = e
		}
	}
	return out, nil
}

func (f *fakeStore) Department(_ context.Context, orgID, id string) (Department, bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	d, ok := f.depts[k(orgID, id)]
	return d, ok, nil
}

func (f *fakeStore) Director(_ context.Context, orgID string) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.directors[orgID], nil
}

// Read answers each part of l as the single reads do. reads counts its
// calls and orgWideReads those asking for the org-wide items.
func (f *fakeStore) Read(ctx context.Context, orgID string, l Lookup) (Found, error) {
	f.reads.Add(1)
	out := Found{Employees: map[string]Employee{}, Departments: map[string]Department{}, Deputies: map[string]Deputy{},
		Contacts: map[string]Contact{}}
	if l.OrgWide {
		f.orgWideReads.Add(1)
		if o, err := f.Organization(ctx, orgID); err == nil {
			out.Org = &o
		}
		tpls, _ := f.Templates(ctx, orgID)
		prefs, _ := f.NotificationPreferences(ctx, orgID)
		out.Templates, out.Prefs = tpls, &prefs
	}
	if l.OrgWide || l.Settings {
		st, _ := f.Settings(ctx, orgID)
		out.Settings = &st
	}
	if l.Director {
		out.Director, _ = f.Director(ctx, orgID)
	}
	for _, id := range l.Employees {
		if e, err := f.Employee(ctx, orgID, id); err == nil {
			out.Employees[id] = e
		}
	}
	for _, id := range l.Departments {
		if d, ok, _ := f.Department(ctx, orgID, id); ok {
			out.Departments[id] = d
		}
	}
	for _, id := range l.Deputies {
		if d, err := f.Deputy(ctx, orgID, id); err == nil {
			out.Deputies[id] = d
		}
	}
	for _, id := range l.Contacts {
		if c, ok, _ := f.EmployeeContact(ctx, orgID, id); ok {
			out.Contacts[id] = c
		}
	}
	if l.Responsible != "" {
		if c, ok, _ := f.ResponsibleContact(ctx, orgID); ok {
			out.Contacts[""] = c
		}
	}
	return out, nil
}

func (f *fakeStore) Deputy(_ context.Context, orgID, managerID string) (Deputy, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	d, ok := f.deputies[k(orgID, managerID)]
	if !ok {
		return Deputy{}, domain.ErrNotFound
	}
	return d, nil
}

func (f *fakeStore) DeputiesOf(_ context.Context, orgID, deputyID string) ([]Deputy, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []Deputy
	for _, d := range f.deputies {
		if d.OrganizationID == orgID && d.DeputyID == deputyID {
			out = append(out, d)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ManagerID < out[j].ManagerID })
	if len(out) > 100 {
		out = out[:100]
	}
	return out, nil
}

func (f *fakeStore) SaveDeputy(_ context.Context, d Deputy, prevVersion int64) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	old, ok := f.deputies[k(d.OrganizationID, d.ManagerID)]
	if (!ok && prevVersion != 0) || (ok && old.Version != prevVersion) {
		return ErrStale
	}
	f.deputies[k(d.OrganizationID, d.ManagerID)] = d
	return nil
}

func (f *fakeStore) DeleteDeputy(_ context.Context, orgID, managerID string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	delete(f.deputies, k(orgID, managerID))
	return nil
}

func (f *fakeStore) NextNumber(_ context.Context, orgID string) (int64, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.numbers[orgID]++
	return f.numbers[orgID], nil
}

func (f *fakeStore) Request(_ context.Context, orgID, id string) (Request, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	r, ok := f.requests[k(orgID, id)]
	if !ok {
		return Request{}, domain.ErrNotFound
	}
	return copyRequest(r), nil
}

func (f *fakeStore) SaveRequest(_ context.Context, r Request, prevVersion int64, msgs ...notify.Message) error {
	f.mu.Lock()
	hook := f.beforeSave
	f.mu.Unlock()
	if hook != nil {
		hook(copyRequest(r), prevVersion)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.failSave != nil {
		return f.failSave
	}
	if r.ID == "" || r.OrganizationID == "" {
		return errors.New("fake store: request without id or organization")
	}
	old, ok := f.requests[k(r.OrganizationID, r.ID)]
	switch {
	case prevVersion == 0 && ok, prevVersion != 0 && !ok, ok && old.Version != prevVersion:
		return ErrStale
	}
	for _, m := range msgs {
		if f.stagedIDs[k(m.OrganizationID, m.ID)] {
			return ErrStale
		}
	}
	if r.Version != prevVersion+1 {
		f.badVersions = append(f.badVersions, fmt.Sprintf("%s: version %d written over %d", r.ID, r.Version, prevVersion))
	}
	f.requests[k(r.OrganizationID, r.ID)] = copyRequest(r)
	f.saves[r.ID]++
	f.outbox = append(f.outbox, msgs...)
	for _, m := range msgs {
		f.stagedIDs[k(m.OrganizationID, m.ID)] = true
	}
	return nil
}

// sorted lists the stored requests of org (all orgs when org is empty)
// matching keep, in id order.
func (f *fakeStore) sorted(org string, keep func(Request) bool) []Request {
	var out []Request
	for _, r := range f.requests {
		if (org == "" || r.OrganizationID == org) && keep(r) {
			out = append(out, copyRequest(r))
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

func checkLimit(limit int) error {
	if limit <= 0 {
		return fmt.Errorf("fake store: limit %d", limit)
	}
	return nil
}

func (f *fakeStore) EmployeeRequests(_ context.Context, orgID, employeeID, before string, limit int) ([]Request, error) {
	if err := checkLimit(limit); err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	rs := f.sorted(orgID, func(r Request) bool { return r.EmployeeID == employeeID && (before == "" || r.ID < before) })
	slices.Reverse(rs)
	return rs[:min(limit, len(rs))], nil
}

func (f *fakeStore) InboxRequests(_ context.Context, orgID string, in Inbox, after string, limit int) ([]Request, error) {
	if err := checkLimit(limit); err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	rs := f.sorted(orgID, func(r Request) bool {
		got, ok := InboxOf(r)
		return ok && got == in && r.ID > after
	})
	return rs[:min(limit, len(rs))], nil
}

func (f *fakeStore) Awaiting(_ context.Context, orgID string, after AwaitingPlace, limit int) ([]Request, error) {
	if err := checkLimit(limit); err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	less := func(a, b AwaitingPlace) bool {
		return a.DepartmentID < b.DepartmentID || a.DepartmentID == b.DepartmentID && a.ID < b.ID
	}
	rs := f.sorted(orgID, func(r Request) bool {
		return r.State.Awaiting() && (after == AwaitingPlace{} || less(after, AwaitingPlaceOf(r)))
	})
	sort.SliceStable(rs, func(i, j int) bool { return less(AwaitingPlaceOf(rs[i]), AwaitingPlaceOf(rs[j])) })
	rs = rs[:min(limit, len(rs))]
	f.awaitingRead += len(rs)
	return rs, nil
}

func (f *fakeStore) AwaitingIn(_ context.Context, orgID, departmentID string) ([]Request, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	rs := f.sorted(orgID, func(r Request) bool { return r.State.Awaiting() && r.DepartmentID == departmentID })
	f.awaitingRead += len(rs)
	return rs, nil
}

func (f *fakeStore) AwaitingOf(_ context.Context, orgID, employeeID string) ([]Request, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	rs := f.sorted(orgID, func(r Request) bool { return r.State.Awaiting() && r.EmployeeID == employeeID })
	f.awaitingRead += len(rs)
	return rs, nil
}

// awaitingReads is how many awaiting requests were read so far.
func (f *fakeStore) awaitingReads() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.awaitingRead
}

func (f *fakeStore) DueRequests(_ context.Context, now time.Time, limit int) ([]Request, error) {
	if err := checkLimit(limit); err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	rs := f.sorted("", func(r Request) bool { return !r.DueAt.IsZero() && !r.DueAt.After(now) })
	sort.SliceStable(rs, func(i, j int) bool { return rs[i].DueAt.Before(rs[j].DueAt) })
	return rs[:min(limit, len(rs))], nil
}

func (f *fakeStore) EmployeeContact(_ context.Context, orgID, employeeID string) (Contact, bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	c, ok := f.contacts[k(orgID, employeeID)]
	return c, ok, nil
}

func (f *fakeStore) ResponsibleContact(_ context.Context, orgID string) (Contact, bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	c, ok := f.responsible[orgID]
	return c, ok, nil
}

func (f *fakeStore) Templates(_ context.Context, orgID string) (map[notify.Kind]notify.Template, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return maps.Clone(f.templates[orgID]), nil
}

func (f *fakeStore) putTemplate(org string, kind notify.Kind, t notify.Template) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.templates == nil {
		f.templates = map[string]map[notify.Kind]notify.Template{}
	}
	if f.templates[org] == nil {
		f.templates[org] = map[notify.Kind]notify.Template{}
	}
	f.templates[org][kind] = t
}

func (f *fakeStore) NotificationPreferences(_ context.Context, orgID string) (notify.Preferences, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if p, ok := f.prefs[orgID]; ok {
		return p, nil
	}
	return notify.DefaultPreferences(orgID), nil
}

// seqIDs hands out ids in creation order, as ULIDs sort.
type seqIDs struct{ n atomic.Int64 }

func (s *seqIDs) New() string { return fmt.Sprintf("R%06d", s.n.Add(1)) }

// quiet is a context whose logger drops everything: refusals are logged
// at warn level, and the tests refuse a lot.
func quiet() context.Context {
	return platform.WithLogger(context.Background(), slog.New(slog.DiscardHandler))
}

// --- tests of the fake itself: the other tests rely on these points ---

func TestFakeStoreConditionalWrites(t *testing.T) {
	ctx := context.Background()
	f := newFakeStore()
	r := Request{ID: "R1", OrganizationID: "o", EmployeeID: "e", State: PendingApproval, ApproverID: "a", Version: 1}
	msg := notify.Message{ID: "m1"}
	if err := f.SaveRequest(ctx, r, 0, msg); err != nil {
		t.Fatal(err)
	}
	if err := f.SaveRequest(ctx, r, 0, notify.Message{ID: "m2"}); !errors.Is(err, ErrStale) {
		t.Fatalf("second create = %v, want ErrStale", err)
	}
	r2 := r
	r2.Version = 3
	if err := f.SaveRequest(ctx, r2, 2, notify.Message{ID: "m3"}); !errors.Is(err, ErrStale) {
		t.Fatalf("write on a wrong version = %v, want ErrStale", err)
	}
	if err := f.SaveRequest(ctx, Request{ID: "R9", OrganizationID: "o", Version: 2}, 1); !errors.Is(err, ErrStale) {
		t.Fatalf("update of an absent request = %v, want ErrStale", err)
	}
	r2.Version = 2
	if err := f.SaveRequest(ctx, r2, 1, notify.Message{ID: "m4"}); err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, m := range f.staged() {
		ids = append(ids, m.ID)
	}
	if !slices.Equal(ids, []string{"m1", "m4"}) {
		t.Fatalf("staged %v, want only the messages of successful saves [m1 m4]", ids)
	}
	if v := f.versionViolations(); len(v) != 0 {
		t.Fatalf("violations %v", v)
	}
	bad := r2
	bad.Version = 7
	if err := f.SaveRequest(ctx, bad, 2); err != nil {
		t.Fatal(err)
	}
	if len(f.versionViolations()) != 1 {
		t.Fatal("a version jump was not recorded")
	}
	// What the caller holds is a copy.
	got, _ := f.Request(ctx, "o", "R1")
	got.History = append(got.History, Step{Action: ActApprove})
	if again, _ := f.Request(ctx, "o", "R1"); len(again.History) != 0 {
		t.Fatal("a read request shares its history with the store")
	}
	if _, err := f.Request(ctx, "other-org", "R1"); !errors.Is(err, domain.ErrNotFound) {
		t.Fatalf("another organization's request: %v", err)
	}
}

func TestFakeStoreIndexes(t *testing.T) {
	ctx := context.Background()
	f := newFakeStore()
	at := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	put := func(id, emp string, st State, approver, processor string, due time.Time) {
		f.putRequest(Request{ID: id, OrganizationID: "o", EmployeeID: emp, State: st, ApproverID: approver,
			ProcessorID: processor, DueAt: due, Version: 1})
	}
	put("R1", "e1", PendingApproval, "a", "", at.Add(2*time.Hour))
	put("R2", "e2", PendingApproval, "b", "", at.Add(time.Hour))
	put("R3", "e1", NoApprover, "", "", time.Time{})
	put("R4", "e1", ToProcess, "", "p", time.Time{})
	put("R5", "e2", InWork, "", "", time.Time{})
	put("R6", "e1", Completed, "", "p", time.Time{})
	put("R7", "e1", PendingApproval, "a", "", at.Add(-time.Hour))
	f.putRequest(Request{ID: "R8", OrganizationID: "o2", EmployeeID: "e1", State: PendingApproval, ApproverID: "a", DueAt: at, Version: 1})

	ids := func(rs []Request, err error) []string {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, r := range rs {
			out = append(out, r.ID)
		}
		return out
	}
	check := func(name string, got, want []string) {
		t.Helper()
		if !slices.Equal(got, want) {
			t.Errorf("%s = %v, want %v", name, got, want)
		}
	}
	check("approvals of a", ids(f.InboxRequests(ctx, "o", Inbox{InboxApprovals, "a"}, "", 10)), []string{"R1", "R7"})
	check("approvals of a after R1", ids(f.InboxRequests(ctx, "o", Inbox{InboxApprovals, "a"}, "R1", 10)), []string{"R7"})
	check("approvals of a, 1", ids(f.InboxRequests(ctx, "o", Inbox{InboxApprovals, "a"}, "", 1)), []string{"R1"})
	check("no approver", ids(f.InboxRequests(ctx, "o", Inbox{Kind: InboxNoApprover}, "", 10)), []string{"R3"})
	check("processing of p", ids(f.InboxRequests(ctx, "o", Inbox{InboxProcessing, "p"}, "", 10)), []string{"R4"})
	check("processing of the responsible person", ids(f.InboxRequests(ctx, "o", Inbox{Kind: InboxProcessing}, "", 10)), []string{"R5"})
	check("awaiting", ids(f.Awaiting(ctx, "o", AwaitingPlace{}, 10)), []string{"R1", "R2", "R3", "R7"})
	check("awaiting after R2, 1", ids(f.Awaiting(ctx, "o", AwaitingPlace{ID: "R2"}, 1)), []string{"R3"})
	check("employee e1", ids(f.EmployeeRequests(ctx, "o", "e1", "", 10)), []string{"R7", "R6", "R4", "R3", "R1"})
	check("employee e1 before R4", ids(f.EmployeeRequests(ctx, "o", "e1", "R4", 2)), []string{"R3", "R1"})
	check("due", ids(f.DueRequests(ctx, at.Add(time.Hour), 10)), []string{"R7", "R8", "R2"})
	check("due, 1", ids(f.DueRequests(ctx, at.Add(3*time.Hour), 1)), []string{"R7"})
	if _, err := f.InboxRequests(ctx, "o", Inbox{InboxApprovals, "a"}, "", 0); err == nil {
		t.Error("a limit of 0 was accepted")
	}
}

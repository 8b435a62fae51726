// Package cabinetstest holds an in-memory fake of cabinets.Store and the
// contract suite that both it and the DynamoDB repository pass.
package cabinetstest

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/kabinet/kabinet/shared/cabinets"
	"github.com/kabinet/kabinet/shared/domain"
	"github.com/kabinet/kabinet/shared/notify"
	"github.com/kabinet/kabinet/shared/onboarding/onboardingtest"
	"github.com/kabinet/kabinet/shared/publication/publicationtest"
)

// Store is an in-memory cabinets.Store. It builds on the onboarding fake
// (organizations, people, codes, the outbox) and the publication fake
// (employee records), as the repositories share one table, and writes
// under the onboarding fake's mutex so an activation or a save with its
// messages is all or nothing.
type Store struct {
	mu       *sync.Mutex
	onb      *onboardingtest.Store
	pub      *publicationtest.Store
	cabs     map[string]cabinets.Cabinet // by org/employee
	settings map[string]cabinets.Settings
	edo      map[string]domain.EDOSettings // by org (edo.go)
}

var _ cabinets.Store = (*Store)(nil)

// New returns a store with no cabinets on the given fakes (new ones when nil).
func New(onb *onboardingtest.Store, pub *publicationtest.Store) *Store {
	if onb == nil {
		onb = onboardingtest.New(nil)
	}
	if pub == nil {
		pub = publicationtest.New()
	}
	return &Store{mu: onb.Mutex(), onb: onb, pub: pub, cabs: map[string]cabinets.Cabinet{}, settings: map[string]cabinets.Settings{},
		edo: map[string]domain.EDOSettings{}}
}

// Onboarding is the onboarding fake the store builds on.
func (s *Store) Onboarding() *onboardingtest.Store { return s.onb }

// Publication is the publication fake the store builds on.
func (s *Store) Publication() *publicationtest.Store { return s.pub }

var tm = onboardingtest.T

// stored is c as the repository returns it: instants in milliseconds.
func stored(c cabinets.Cabinet, version int64) cabinets.Cabinet {
	c.InvitedAt, c.ExpiresAt, c.RemindedAt, c.DueAt = tm(c.InvitedAt), tm(c.ExpiresAt), tm(c.RemindedAt), tm(c.DueAt)
	c.ActivatedAt, c.UpdatedAt = tm(c.ActivatedAt), tm(c.UpdatedAt)
	c.Reasons = append([]cabinets.Reason(nil), c.Reasons...)
	if len(c.Reasons) == 0 {
		c.Reasons = nil
	}
	c.Version = version
	return c
}

// clone is c with its own Reasons, so a caller's changes never reach the store.
func clone(c cabinets.Cabinet) cabinets.Cabinet {
	if c.Reasons != nil {
		c.Reasons = append([]cabinets.Reason(nil), c.Reasons...)
	}
	return c
}

// Organization reads one organization.
func (s *Store) Organization(ctx context.Context, orgID string) (domain.Organization, error) {
	return s.onb.Organization(ctx, orgID)
}

// NotificationPreferences reads the organization's notification settings.
func (s *Store) NotificationPreferences(ctx context.Context, orgID string) (notify.Preferences, error) {
	return s.onb.NotificationPreferences(ctx, orgID)
}

// Settings reads the organization's cabinet settings, or the defaults.
func (s *Store) Settings(_ context.Context, orgID string) (cabinets.Settings, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if st, ok := s.settings[orgID]; ok {
		return st, nil
	}
	return cabinets.DefaultSettings(orgID), nil
}

// SaveSettings stores st if the stored version is still prevVersion.
func (s *Store) SaveSettings(_ context.Context, st cabinets.Settings, prevVersion int64) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	cur, ok := s.settings[st.OrganizationID]
	if ok && cur.Version != prevVersion || !ok && prevVersion != 0 {
		return cabinets.ErrStale
	}
	st.Version, st.UpdatedAt = prevVersion+1, tm(st.UpdatedAt)
	s.settings[st.OrganizationID] = st
	return nil
}

// Cabinet reads one cabinet.
func (s *Store) Cabinet(_ context.Context, orgID, employeeID string) (cabinets.Cabinet, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.cabs[orgID+"/"+employeeID]
	if !ok {
		return cabinets.Cabinet{}, domain.ErrNotFound
	}
	return clone(c), nil
}

// Cabinets reads the named cabinets; absent ones are left out.
func (s *Store) Cabinets(_ context.Context, orgID string, ids []string) (map[string]cabinets.Cabinet, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[string]cabinets.Cabinet, len(ids))
	for _, id := range ids {
		if c, ok := s.cabs[orgID+"/"+id]; ok {
			out[id] = clone(c)
		}
	}
	return out, nil
}

// CanHaveCabinet reads, from the employee records, who is published and
// able to have a cabinet.
func (s *Store) CanHaveCabinet(ctx context.Context, orgID string, ids []string) (map[string]bool, error) {
	states, err := s.pub.EmployeeStates(ctx, orgID, ids)
	if err != nil {
		return nil, err
	}
	out := make(map[string]bool, len(states))
	for id, st := range states {
		out[id] = st.Published && st.Eligible
	}
	return out, nil
}

// versionOK: the cabinet is absent (version 0) or still at prevVersion
// and prevState, as the repository's condition has it.
func (s *Store) versionOK(orgID, employeeID string, prevVersion int64, prevState cabinets.State) bool {
	c, ok := s.cabs[orgID+"/"+employeeID]
	if !ok {
		return prevVersion == 0
	}
	return c.Version == prevVersion && c.State == prevState
}

// SaveCabinet writes c if the stored version and state are still
// prevVersion and prevState, with msgs staged in the same write.
func (s *Store) SaveCabinet(_ context.Context, c cabinets.Cabinet, prevVersion int64, prevState cabinets.State, msgs ...notify.Message) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.versionOK(c.OrganizationID, c.EmployeeID, prevVersion, prevState) || s.onb.Outbox().CheckStageLocked(msgs) != nil {
		return cabinets.ErrStale
	}
	s.onb.Outbox().StageLocked(msgs, c.UpdatedAt)
	s.cabs[c.OrganizationID+"/"+c.EmployeeID] = stored(c, prevVersion+1)
	return nil
}

// SaveCabinets does SaveCabinet for each write.
func (s *Store) SaveCabinets(ctx context.Context, ws []cabinets.CabinetWrite) []error {
	errs := make([]error, len(ws))
	for i, w := range ws {
		errs[i] = s.SaveCabinet(ctx, w.Cabinet, w.PrevVersion, w.PrevState, w.Msgs...)
	}
	return errs
}

// PutNewCabinets writes first records at version 1, leaving (and
// reporting) those stored already.
func (s *Store) PutNewCabinets(_ context.Context, cs []cabinets.Cabinet, _ time.Time) (existed, unwritten []string, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, c := range cs {
		k := c.OrganizationID + "/" + c.EmployeeID
		if _, ok := s.cabs[k]; ok {
			existed = append(existed, c.EmployeeID)
			continue
		}
		s.cabs[k] = stored(c, 1)
	}
	return existed, nil, nil
}

type cursor struct {
	Employee string `json:"e"`
	Sort     string `json:"s"`
}

func sortKey(c cabinets.Cabinet) string { return cabinets.SortName(c.FullName) + "#" + c.EmployeeID }

// ListCabinets pages through cabinets in name order (then employee id), of
// one state or all, whose sort name starts with namePrefix.
func (s *Store) ListCabinets(_ context.Context, orgID string, st cabinets.State, namePrefix string, limit int, cur string) ([]cabinets.Cabinet, string, error) {
	after := ""
	if cur != "" {
		var c cursor
		raw, err := base64.RawURLEncoding.DecodeString(cur)
		if err != nil || json.Unmarshal(raw, &c) != nil || c.Employee == "" || c.Sort == "" || !strings.HasPrefix(c.Sort, namePrefix) {
			return nil, "", onboardingtest.BadCursor()
		}
		after = c.Sort
	}
	s.mu.Lock()
	var all []cabinets.Cabinet
	for _, c := range s.cabs {
		if c.OrganizationID != orgID || st != "" && c.State != st || !strings.HasPrefix(sortKey(c), namePrefix) {
			continue
		}
		if cur != "" && sortKey(c) <= after {
			continue
		}
		all = append(all, clone(c))
	}
	s.mu.Unlock()
	sort.Slice(all, func(i, j int) bool { return sortKey(all[i]) < sortKey(all[j]) })
	if len(all) <= limit {
		return all, "", nil
	}
	page := all[:limit]
	last := page[limit-1]
	raw, _ := json.Marshal(cursor{Employee: last.EmployeeID, Sort: sortKey(last)})
	return page, base64.RawURLEncoding.EncodeToString(raw), nil
}

// CabinetCounts counts the organization's cabinets per state (the fake
// recounts; the repository reads counts kept with every write).
func (s *Store) CabinetCounts(_ context.Context, orgID string) (map[cabinets.State]int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[cabinets.State]int, len(cabinets.States))
	for _, st := range cabinets.States {
		out[st] = 0
	}
	for _, c := range s.cabs {
		if c.OrganizationID == orgID {
			out[c.State]++
		}
	}
	return out, nil
}

// DueCabinets reads cabinets due by now across organizations, earliest
// first, at most limit (the repository reads at most limit per shard).
func (s *Store) DueCabinets(_ context.Context, now time.Time, limit int) ([]cabinets.Cabinet, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var due []cabinets.Cabinet
	for _, c := range s.cabs {
		if !c.DueAt.IsZero() && !c.DueAt.After(tm(now)) {
			due = append(due, clone(c))
		}
	}
	sort.Slice(due, func(i, j int) bool {
		if !due[i].DueAt.Equal(due[j].DueAt) {
			return due[i].DueAt.Before(due[j].DueAt)
		}
		return due[i].OrganizationID+"#"+due[i].EmployeeID < due[j].OrganizationID+"#"+due[j].EmployeeID
	})
	return due[:min(limit, len(due))], nil
}

// Activate writes an activation: the cabinet, the code used, the person and
// their sign-in entries, all or nothing.
func (s *Store) Activate(_ context.Context, a cabinets.Activation) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	p := a.Person
	stale := !s.versionOK(a.Cabinet.OrganizationID, a.Cabinet.EmployeeID, a.PrevVersion, a.PrevState)
	code, ok := s.onb.CodeLocked(a.Code.OrganizationID, a.Code.Purpose, a.Code.Slot)
	stale = stale || !ok || code.Hash != a.Code.Hash || !code.UsedAt.IsZero()
	stale = stale || s.onb.PersonExistsLocked(p.OrganizationID, p.ID)
	// Phone and e-mail entries are per person; an own login is unique in
	// the organization.
	entries := [][2]string{{"LOGIN#" + p.Phone.Login() + "#" + p.ID, p.Phone.Login()}, {"LOGIN#" + p.Email.Login() + "#" + p.ID, p.Email.Login()}}
	for _, e := range entries {
		stale = stale || s.onb.LoginEntryExistsLocked(p.OrganizationID, e[0])
	}
	if stale {
		return cabinets.ErrStale
	}
	if p.Login != "" {
		if s.onb.LoginEntryExistsLocked(p.OrganizationID, "LOGIN#"+p.Login.Key()) {
			return cabinets.ErrLoginTaken
		}
		entries = append(entries, [2]string{"LOGIN#" + p.Login.Key(), p.Login.Key()})
	}
	s.cabs[a.Cabinet.OrganizationID+"/"+a.Cabinet.EmployeeID] = stored(a.Cabinet, a.PrevVersion+1)
	code.UsedAt = tm(a.Cabinet.ActivatedAt)
	s.onb.PutCodeLocked(code)
	s.onb.PutPersonLocked(p)
	for _, e := range entries {
		s.onb.PutLoginEntryLocked(p.OrganizationID, e[0], e[1], p.ID)
	}
	return nil
}

// SetPersonDisabled disables or re-enables a person's sign-in.
func (s *Store) SetPersonDisabled(_ context.Context, orgID, personID string, disabled bool) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.onb.SetPersonDisabledLocked(orgID, personID, disabled)
	return nil
}

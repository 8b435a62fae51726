package cabinetstest

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/kabinet/kabinet/shared/cabinets"
	"github.com/kabinet/kabinet/shared/domain"
	"github.com/kabinet/kabinet/shared/notify/notifytest"
)

var _ cabinets.EDOStore = (*Store)(nil)

// EDOSettings reads the organization's КЭДО settings, or the defaults.
func (s *Store) EDOSettings(_ context.Context, orgID string) (domain.EDOSettings, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if st, ok := s.edo[orgID]; ok {
		return st, nil
	}
	return domain.DefaultEDOSettings(orgID), nil
}

// SaveEDOSettings stores st if the stored version is still prevVersion.
func (s *Store) SaveEDOSettings(_ context.Context, st domain.EDOSettings, prevVersion int64) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	cur, ok := s.edo[st.OrganizationID]
	if ok && cur.Version != prevVersion || !ok && prevVersion != 0 {
		return cabinets.ErrStale
	}
	st.Version, st.UpdatedAt = prevVersion+1, tm(st.UpdatedAt)
	s.edo[st.OrganizationID] = st
	return nil
}

// TestEDOStore is the contract of cabinets.EDOStore: defaults (all off,
// version 0) until saved, what is saved reads back with the next version,
// a save from a stale version is refused and changes nothing, and one
// organization's settings are not another's.
func TestEDOStore(t *testing.T, newStore func(t *testing.T) cabinets.EDOStore) {
	ctx := context.Background()
	s := newStore(t)
	org, other, now := notifytest.NewID("org"), notifytest.NewID("org"), notifytest.Era(1985)
	read := func(orgID string) domain.EDOSettings {
		t.Helper()
		st, err := s.EDOSettings(ctx, orgID)
		if err != nil {
			t.Fatal(err)
		}
		return st
	}
	// same compares instants as instants: a store may give them another
	// location.
	same := func(a, b domain.EDOSettings) bool {
		at, bt := a.UpdatedAt, b.UpdatedAt
		a.UpdatedAt, b.UpdatedAt = time.Time{}, time.Time{}
		return a == b && at.Equal(bt)
	}
	if got := read(org); !same(got, domain.DefaultEDOSettings(org)) {
		t.Fatalf("never saved: %+v", got)
	}
	if err := s.SaveEDOSettings(ctx, domain.EDOSettings{OrganizationID: org, HREdo: true}, 1); !errors.Is(err, domain.ErrStale) {
		t.Fatalf("save over nothing from version 1: %v", err)
	}
	on := domain.EDOSettings{OrganizationID: org, HREdo: true, EmployeeSignatures: true, UpdatedAt: now}
	if err := s.SaveEDOSettings(ctx, on, 0); err != nil {
		t.Fatal(err)
	}
	want := on
	want.Version = 1
	if got := read(org); !same(got, want) {
		t.Fatalf("read back %+v, want %+v", got, want)
	}
	// Another save from version 0 lost the race: nothing changes.
	if err := s.SaveEDOSettings(ctx, domain.EDOSettings{OrganizationID: org, UpdatedAt: now}, 0); !errors.Is(err, domain.ErrStale) {
		t.Fatalf("stale save: %v", err)
	}
	if got := read(org); !same(got, want) {
		t.Fatalf("a stale save changed %+v into %+v", want, got)
	}
	// КЭДО off keeps the signature flag.
	off := domain.EDOSettings{OrganizationID: org, EmployeeSignatures: true, UpdatedAt: now.Add(time.Minute)}
	if err := s.SaveEDOSettings(ctx, off, 1); err != nil {
		t.Fatal(err)
	}
	if got := read(org); got.HREdo || !got.EmployeeSignatures || got.Version != 2 || !got.UpdatedAt.Equal(off.UpdatedAt) {
		t.Fatalf("after turning КЭДО off: %+v", got)
	}
	if got := read(other); !same(got, domain.DefaultEDOSettings(other)) {
		t.Fatalf("another organization's settings: %+v", got)
	}
}

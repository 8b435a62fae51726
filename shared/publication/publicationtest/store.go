// Package publicationtest holds an in-memory fake of publication.Store and
// the contract suite that both it and the DynamoDB repository pass.
package publicationtest

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/kabinet/kabinet/shared/domain"
	"github.com/kabinet/kabinet/shared/publication"
)

// Store is an in-memory publication.Store.
type Store struct {
	mu        sync.Mutex
	depts     map[string]publication.StoredDepartment // by org/id
	emps      map[string]publication.PublishedEmployee
	states    map[string]publication.StoredState
	directors map[string]string
	snaps     map[string]publication.Snapshot // by org/id
	chunks    map[string]map[string][]publication.RowRef
	locks     map[string]lock
	reroutes  map[string]reroute
}

type reroute struct {
	change  publication.StructureChange
	version int64
}

type lock struct {
	owner string
	until time.Time
}

var _ publication.Store = (*Store)(nil)

// New returns an empty store.
func New() *Store {
	return &Store{depts: map[string]publication.StoredDepartment{}, emps: map[string]publication.PublishedEmployee{},
		states: map[string]publication.StoredState{}, directors: map[string]string{}, snaps: map[string]publication.Snapshot{},
		chunks: map[string]map[string][]publication.RowRef{}, locks: map[string]lock{},
		reroutes: map[string]reroute{}}
}

// clone is e with its own problems, so a caller's changes never reach the store.
func clone(e publication.PublishedEmployee) publication.PublishedEmployee {
	if e.CabinetProblems != nil {
		e.CabinetProblems = append([]publication.CabinetProblem(nil), e.CabinetProblems...)
	}
	return e
}

// t keeps an instant as the repository does: in milliseconds, in UTC.
func t(v time.Time) time.Time {
	if v.IsZero() {
		return time.Time{}
	}
	return time.UnixMilli(v.UnixMilli()).UTC()
}

// Departments reads every department of the organization, in id order.
func (s *Store) Departments(_ context.Context, orgID string) ([]publication.StoredDepartment, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []publication.StoredDepartment
	for k, d := range s.depts {
		if strings.HasPrefix(k, orgID+"/") {
			out = append(out, d)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ExternalID < out[j].ExternalID })
	return out, nil
}

// DepartmentsByID reads the named departments (missing ones are absent).
func (s *Store) DepartmentsByID(_ context.Context, orgID string, ids []string) ([]publication.StoredDepartment, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []publication.StoredDepartment
	for _, id := range ids {
		if d, ok := s.depts[orgID+"/"+id]; ok {
			out = append(out, d)
		}
	}
	return out, nil
}

// EmployeeStates reads the stored state of the named employees.
func (s *Store) EmployeeStates(_ context.Context, orgID string, ids []string) (map[string]publication.StoredState, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[string]publication.StoredState, len(ids))
	for _, id := range ids {
		if st, ok := s.states[orgID+"/"+id]; ok {
			out[id] = st
		}
	}
	return out, nil
}

// Write puts the items; in memory every one is written.
func (s *Store) Write(_ context.Context, orgID string, w publication.Writes, now, _ time.Time) ([]publication.RowRef, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, d := range w.Departments {
		s.depts[orgID+"/"+d.ExternalID] = publication.StoredDepartment{Department: d, Hash: d.Hash(), Published: true}
	}
	for _, e := range w.Employees {
		s.emps[orgID+"/"+e.ExternalID] = clone(publication.PublishedEmployee{Employee: e, Published: true, UpdatedAt: t(now)})
		s.states[orgID+"/"+e.ExternalID] = publication.StoredState{Version: e.Version, Hash: e.Hash(), Published: true, Eligible: e.Eligible(),
			DepartmentID: e.DepartmentID}
	}
	if w.Director != nil {
		s.directors[orgID] = w.Director.EmployeeID
	}
	return nil, nil
}

// Director is the stored director's employee id, empty when none.
func (s *Store) Director(_ context.Context, orgID string) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.directors[orgID], nil
}

// PendingReroute is the re-routing marked and not cleared, and its version.
func (s *Store) PendingReroute(_ context.Context, orgID string) (publication.StructureChange, int64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	m := s.reroutes[orgID]
	return m.change, m.version, nil
}

// MarkReroute adds c to the pending re-routing, as the repository does:
// ids accumulate, All stays set.
func (s *Store) MarkReroute(_ context.Context, orgID string, c publication.StructureChange) (int64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	m := s.reroutes[orgID]
	if c.All {
		m.change = publication.StructureChange{All: true}
	} else if !m.change.All {
		m.change = m.change.Merge(c)
	}
	m.version++
	s.reroutes[orgID] = m
	return m.version, nil
}

// ClearReroute forgets the pending re-routing if it is still at version.
func (s *Store) ClearReroute(_ context.Context, orgID string, version int64) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.reroutes[orgID].version == version {
		delete(s.reroutes, orgID)
	}
	return nil
}

// BeginSnapshot stores a new snapshot.
func (s *Store) BeginSnapshot(_ context.Context, snap publication.Snapshot) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	k := snap.OrganizationID + "/" + snap.ID
	if _, ok := s.snaps[k]; ok {
		return domain.NewError(domain.CodeConflict, "snapshot exists")
	}
	snap.CreatedAt, snap.ExpiresAt = t(snap.CreatedAt), t(snap.ExpiresAt)
	s.snaps[k] = snap
	return nil
}

// Snapshot reads one snapshot.
func (s *Store) Snapshot(_ context.Context, orgID, id string) (publication.Snapshot, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	snap, ok := s.snaps[orgID+"/"+id]
	if !ok {
		return publication.Snapshot{}, domain.ErrNotFound
	}
	return snap, nil
}

// AddSnapshotChunk records what a chunk named and counts it; a chunk sent
// again replaces itself but is counted again, as in the repository.
func (s *Store) AddSnapshotChunk(_ context.Context, orgID, snapshotID, chunkID string, seen []publication.RowRef) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	k := orgID + "/" + snapshotID
	if s.chunks[k] == nil {
		s.chunks[k] = map[string][]publication.RowRef{}
	}
	var kept []publication.RowRef
	for _, r := range seen {
		if r.Kind == publication.KindEmployee || r.Kind == publication.KindDepartment {
			kept = append(kept, r)
		}
	}
	s.chunks[k][chunkID] = kept
	snap := s.snaps[k]
	snap.Chunks++
	s.snaps[k] = snap
	return nil
}

// SnapshotSeen is every row the snapshot's chunks named.
func (s *Store) SnapshotSeen(_ context.Context, orgID, snapshotID string) (map[publication.RowRef]bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	seen := map[publication.RowRef]bool{}
	for _, rows := range s.chunks[orgID+"/"+snapshotID] {
		for _, r := range rows {
			seen[r] = true
		}
	}
	return seen, nil
}

// Published lists the published departments, then employees.
func (s *Store) Published(_ context.Context, orgID string) ([]publication.RowRef, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var depts, emps []string
	for k, d := range s.depts {
		if strings.HasPrefix(k, orgID+"/") && d.Published {
			depts = append(depts, d.ExternalID)
		}
	}
	for k, e := range s.emps {
		if strings.HasPrefix(k, orgID+"/") && e.Published {
			emps = append(emps, e.ExternalID)
		}
	}
	sort.Strings(depts)
	sort.Strings(emps)
	var out []publication.RowRef
	for _, id := range depts {
		out = append(out, publication.RowRef{Kind: publication.KindDepartment, ExternalID: id})
	}
	for _, id := range emps {
		out = append(out, publication.RowRef{Kind: publication.KindEmployee, ExternalID: id})
	}
	return out, nil
}

// Unpublish marks the stored rows unpublished; absent ones are skipped.
func (s *Store) Unpublish(_ context.Context, orgID string, rows []publication.RowRef, now time.Time) ([]publication.RowRef, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, r := range rows {
		k := orgID + "/" + r.ExternalID
		if r.Kind == publication.KindEmployee {
			if e, ok := s.emps[k]; ok {
				e.Published, e.UpdatedAt = false, t(now)
				s.emps[k] = e
				st := s.states[k]
				st.Published = false
				s.states[k] = st
			}
			continue
		}
		if d, ok := s.depts[k]; ok {
			d.Published = false
			s.depts[k] = d
		}
	}
	return nil, nil
}

// CloseSnapshot commits an open snapshot.
func (s *Store) CloseSnapshot(_ context.Context, orgID, id string, _ time.Time) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	k := orgID + "/" + id
	snap, ok := s.snaps[k]
	if !ok || snap.Status != publication.SnapshotOpen {
		return domain.NewError(domain.CodeSnapshotClosed, "the snapshot is already committed")
	}
	snap.Status = publication.SnapshotCommitted
	s.snaps[k] = snap
	return nil
}

// Lock takes the organization's publication lock unless another holder's
// is still live.
func (s *Store) Lock(_ context.Context, orgID, owner string, until, now time.Time) (bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if l, ok := s.locks[orgID]; ok && !l.until.Before(t(now)) {
		return false, nil
	}
	s.locks[orgID] = lock{owner: owner, until: t(until)}
	return true, nil
}

// Unlock releases the lock if owner holds it.
func (s *Store) Unlock(_ context.Context, orgID, owner string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if l, ok := s.locks[orgID]; ok && l.owner == owner {
		delete(s.locks, orgID)
	}
	return nil
}

type cursor struct {
	SK    string `json:"s"`
	IdxSK string `json:"i"`
}

// Employees pages through published employees in the repository's index
// order: by department and id, or, of those who cannot get a cabinet, by id.
func (s *Store) Employees(_ context.Context, orgID string, f publication.ListFilter, limit int, cur string) ([]publication.PublishedEmployee, string, error) {
	var after *cursor
	if cur != "" {
		var c cursor
		raw, err := base64.RawURLEncoding.DecodeString(cur)
		if err != nil || json.Unmarshal(raw, &c) != nil || !strings.HasPrefix(c.SK, "EMP#") || c.IdxSK == "" {
			return nil, "", badCursor()
		}
		after = &c
	}
	idx := func(e publication.PublishedEmployee) string {
		if f.CannotGetCabinet {
			return e.ExternalID
		}
		return e.DepartmentID + "#" + e.ExternalID
	}
	s.mu.Lock()
	var all []publication.PublishedEmployee
	for k, e := range s.emps {
		if !strings.HasPrefix(k, orgID+"/") || !e.Published {
			continue
		}
		if f.CannotGetCabinet && e.Eligible() || f.DepartmentID != "" && e.DepartmentID != f.DepartmentID {
			continue
		}
		if after != nil && (idx(e) < after.IdxSK || idx(e) == after.IdxSK && "EMP#"+e.ExternalID <= after.SK) {
			continue
		}
		all = append(all, clone(e))
	}
	s.mu.Unlock()
	sort.Slice(all, func(i, j int) bool { return idx(all[i]) < idx(all[j]) })
	if len(all) <= limit {
		return all, "", nil
	}
	page := all[:limit]
	last := page[limit-1]
	raw, _ := json.Marshal(cursor{SK: "EMP#" + last.ExternalID, IdxSK: idx(last)})
	return page, base64.RawURLEncoding.EncodeToString(raw), nil
}

func badCursor() error {
	return &domain.Error{Code: domain.CodeValidationFailed, Detail: "the cursor is invalid",
		Fields: []domain.FieldError{{Field: "cursor", Code: "cursor_invalid", Message: "use a nextCursor value as given"}}}
}

// Employee reads one employee, published or not.
func (s *Store) Employee(_ context.Context, orgID, externalID string) (publication.PublishedEmployee, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	e, ok := s.emps[orgID+"/"+externalID]
	if !ok {
		return publication.PublishedEmployee{}, domain.ErrNotFound
	}
	return clone(e), nil
}

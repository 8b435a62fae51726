package publication

import (
	"context"
	"sort"
	"time"

	"github.com/kabinet/kabinet/shared/domain"
	"github.com/kabinet/kabinet/shared/platform"
)

// StoredState is what the store holds of a row: enough to tell whether an
// incoming row is newer, unchanged or stale without reading the whole item.
type StoredState struct {
	Version   int64
	Hash      string
	Published bool
	Eligible  bool
	// DepartmentID is the stored row's department: a moved employee's
	// pending requests follow them to their new department's approvers.
	DepartmentID string
}

// EmployeeChange is an employee row a publication writes or unpublishes.
type EmployeeChange struct {
	Employee    Employee // as now published; only ExternalID when Unpublished
	Existed     bool     // the employee was stored before
	WasEligible bool     // ... published, and able to have a cabinet
	Unpublished bool
}

// CabinetSync keeps employees' cabinets in step with publication (see
// shared/cabinets). Publication tells it about a change before writing it,
// except a regained right to a cabinet, told after the write succeeded:
// so a failed write can leave a cabinet disabled, never wrongly enabled,
// and the retried publication repeats the change.
type CabinetSync interface {
	// EmployeesChanged returns the employees whose cabinet could not be
	// brought in step before deadline; publication reports them not written.
	EmployeesChanged(ctx context.Context, orgID string, changes []EmployeeChange, now, deadline time.Time) (failed []string, err error)
}

// ApprovalSync keeps pending approvals with the approvers the structure
// names (see shared/requests): publication tells it what a call changed of
// the structure, and only when it changed something, so that a moved
// employee, a new head or an unpublished approver re-routes the requests
// concerned and an unchanged publication reads none. What it is told is
// recorded first (Store.MarkReroute) and forgotten once it succeeded, so a
// failure is told again by the next call, whatever that call carries.
type ApprovalSync interface {
	StructureChanged(ctx context.Context, orgID string, c StructureChange) error
}

// StructureChange is what a publication changed of the structure approvals
// follow: whose pending requests may now have another approver. A request's
// approvers are the heads of its department and of the departments above,
// then the director, each only while published and able to have a cabinet.
type StructureChange struct {
	// All: every request awaiting a decision (the director changed, or too
	// much did to name).
	All bool `json:"all,omitempty"`
	// Departments are the departments whose requests' approvers may have
	// changed: those whose head or parent changed, that were published again
	// or unpublished, or whose head was (un)published, and every department
	// below them, since a chain runs up through its parents.
	Departments []string `json:"departments,omitempty"`
	// Employees are those who moved to another department, or were
	// published or unpublished: their own requests change department.
	Employees []string `json:"employees,omitempty"`
}

// Empty reports whether c concerns no request.
func (c StructureChange) Empty() bool {
	return !c.All && len(c.Departments) == 0 && len(c.Employees) == 0
}

// maxChangeIDs bounds the ids a change names: beyond them it is All, so a
// pending marker stays a small item however many calls add to it.
const maxChangeIDs = 2000

// Merge is c and o together, ids sorted and once each.
func (c StructureChange) Merge(o StructureChange) StructureChange {
	union := func(a, b []string) []string {
		set := map[string]bool{}
		for _, id := range append(append([]string(nil), a...), b...) {
			set[id] = true
		}
		out := make([]string, 0, len(set))
		for id := range set {
			out = append(out, id)
		}
		sort.Strings(out)
		return out
	}
	m := StructureChange{All: c.All || o.All, Departments: union(c.Departments, o.Departments), Employees: union(c.Employees, o.Employees)}
	if m.All || len(m.Departments)+len(m.Employees) > maxChangeIDs {
		return StructureChange{All: true}
	}
	if len(m.Departments) == 0 {
		m.Departments = nil
	}
	if len(m.Employees) == 0 {
		m.Employees = nil
	}
	return m
}

// covers reports whether c already names everything o does.
func (c StructureChange) covers(o StructureChange) bool {
	if c.All {
		return true
	}
	m := c.Merge(o)
	return !m.All && len(m.Departments) == len(c.Departments) && len(m.Employees) == len(c.Employees)
}

// StoredDepartment is a department as stored.
type StoredDepartment struct {
	Department
	Hash      string
	Published bool
}

// RowRef names a row in a result.
type RowRef struct {
	Kind       string `json:"kind"`
	ExternalID string `json:"externalId"`
}

// Writes is what one publication writes: whole items, independent of each
// other, so they can go in batches.
type Writes struct {
	Departments []Department
	Employees   []Employee
	Director    *DirectorRow
}

// Len is the number of items.
func (w Writes) Len() int {
	n := len(w.Departments) + len(w.Employees)
	if w.Director != nil {
		n++
	}
	return n
}

// Snapshot is a full publication of the organization in chunks. Committing
// it unpublishes everyone the chunks did not name.
type Snapshot struct {
	ID             string    `json:"id"`
	OrganizationID string    `json:"-"`
	Status         string    `json:"status"`
	CreatedAt      time.Time `json:"createdAt"`
	ExpiresAt      time.Time `json:"expiresAt"`
	Chunks         int       `json:"chunks"`
}

// Snapshot states.
const (
	SnapshotOpen      = "open"
	SnapshotCommitted = "committed"
)

// ListFilter narrows the list of published employees.
type ListFilter struct {
	DepartmentID     string
	CannotGetCabinet bool
}

// Store is the persistence publication needs.
type Store interface {
	// Departments reads every department of the organization.
	Departments(ctx context.Context, orgID string) ([]StoredDepartment, error)
	// DepartmentsByID reads the named departments (missing ones are absent).
	DepartmentsByID(ctx context.Context, orgID string, ids []string) ([]StoredDepartment, error)
	EmployeeStates(ctx context.Context, orgID string, ids []string) (map[string]StoredState, error)
	// Write puts the items, retrying what DynamoDB leaves unprocessed until
	// deadline, and returns the rows it could not write.
	Write(ctx context.Context, orgID string, w Writes, now, deadline time.Time) ([]RowRef, error)

	BeginSnapshot(ctx context.Context, s Snapshot) error
	Snapshot(ctx context.Context, orgID, id string) (Snapshot, error)
	AddSnapshotChunk(ctx context.Context, orgID, snapshotID, chunkID string, seen []RowRef) error
	SnapshotSeen(ctx context.Context, orgID, snapshotID string) (map[RowRef]bool, error)
	Published(ctx context.Context, orgID string) ([]RowRef, error)
	Unpublish(ctx context.Context, orgID string, rows []RowRef, now time.Time) ([]RowRef, error)
	CloseSnapshot(ctx context.Context, orgID, id string, now time.Time) error

	// Lock serializes publications of one organization until until, so
	// reading stored versions and writing newer rows cannot interleave.
	Lock(ctx context.Context, orgID, owner string, until, now time.Time) (bool, error)
	Unlock(ctx context.Context, orgID, owner string) error

	Employees(ctx context.Context, orgID string, f ListFilter, limit int, cursor string) ([]PublishedEmployee, string, error)
	Employee(ctx context.Context, orgID, externalID string) (PublishedEmployee, error)

	// Director is the stored director's employee id, empty when none.
	Director(ctx context.Context, orgID string) (string, error)
	// PendingReroute is the re-routing a call recorded and did not finish,
	// and the version of its marker (0: none pending).
	PendingReroute(ctx context.Context, orgID string) (StructureChange, int64, error)
	// MarkReroute adds c to the pending re-routing, durably, and returns the
	// marker's new version.
	MarkReroute(ctx context.Context, orgID string, c StructureChange) (int64, error)
	// ClearReroute forgets the pending re-routing if its marker is still at
	// version (a later mark keeps it).
	ClearReroute(ctx context.Context, orgID string, version int64) error
}

// PublishedEmployee is an employee as the read side shows it.
type PublishedEmployee struct {
	Employee
	Published bool      `json:"published"`
	UpdatedAt time.Time `json:"updatedAt"`
}

// deps are the ports of the publication use cases; each use case below
// holds the ones it needs, checked by its constructor.
type deps struct {
	Store    Store
	Cabinets CabinetSync
	// Approvals, when set, re-routes pending approvals after a change.
	Approvals  ApprovalSync
	ParsePhone PhoneParser
	Clock      platform.Clock
	IDs        platform.IDs
	// LockFor is how long a publication may hold the organization's lock.
	LockFor time.Duration
	// SnapshotTTL is how long a snapshot stays open for chunks.
	SnapshotTTL time.Duration
}

// Publishing takes the employer system's departments, employees and
// director, by delta or by snapshot (PublicationFunction).
type Publishing struct{ deps }

// NewPublishing builds the publishing use case. approvals may be nil (then
// pending approvals do not follow the structure); no other port may.
func NewPublishing(store Store, cabinets CabinetSync, approvals ApprovalSync, parsePhone PhoneParser, clock platform.Clock,
	ids platform.IDs, lockFor, snapshotTTL time.Duration) (*Publishing, error) {
	if err := platform.Required("publication.Publishing", "store", store, "cabinets", cabinets, "parsePhone", parsePhone,
		"clock", clock, "ids", ids); err != nil {
		return nil, err
	}
	if platform.IsNil(approvals) {
		approvals = nil // a typed nil would be called
	}
	return &Publishing{deps{Store: store, Cabinets: cabinets, Approvals: approvals, ParsePhone: parsePhone, Clock: clock, IDs: ids,
		LockFor: lockFor, SnapshotTTL: snapshotTTL}}, nil
}

// Directory shows the responsible person the published employees
// (EmployeesFunction).
type Directory struct{ deps }

// NewDirectory builds the directory; the store may not be nil.
func NewDirectory(store Store) (*Directory, error) {
	if err := platform.Required("publication.Directory", "store", store); err != nil {
		return nil, err
	}
	return &Directory{deps{Store: store}}, nil
}

var errBusy = domain.NewError(domain.CodePublicationBusy, "another publication of this organization is in progress; retry shortly")

// withLock runs fn holding the organization's publication lock.
func (s *Publishing) withLock(ctx context.Context, orgID string, fn func() error) error {
	now := s.Clock.Now()
	owner := s.IDs.New()
	ok, err := s.Store.Lock(ctx, orgID, owner, now.Add(s.LockFor), now)
	if err != nil {
		return err
	}
	if !ok {
		e := *errBusy
		e.RetryAfter = 5 * time.Second
		return &e
	}
	defer func() {
		if err := s.Store.Unlock(context.WithoutCancel(ctx), orgID, owner); err != nil {
			platform.Logger(ctx).Warn("release publication lock", "error", err.Error())
		}
	}()
	return fn()
}

// Delta applies the rows of b as upserts.
func (s *Publishing) Delta(ctx context.Context, orgID string, b Batch, deadline time.Time) (Result, error) {
	if err := checkSize(b); err != nil {
		return Result{}, err
	}
	var res Result
	err := s.withLock(ctx, orgID, func() error {
		var err error
		res, _, err = s.apply(ctx, orgID, b, deadline)
		return err
	})
	return res, err
}

// BeginSnapshot opens a snapshot for chunks.
func (s *Publishing) BeginSnapshot(ctx context.Context, orgID string) (Snapshot, error) {
	now := s.Clock.Now()
	snap := Snapshot{ID: s.IDs.New(), OrganizationID: orgID, Status: SnapshotOpen, CreatedAt: now, ExpiresAt: now.Add(s.SnapshotTTL)}
	if err := s.Store.BeginSnapshot(ctx, snap); err != nil {
		return Snapshot{}, err
	}
	return snap, nil
}

func (s *Publishing) openSnapshot(ctx context.Context, orgID, id string) (Snapshot, error) {
	if _, err := ParseExternalID(id); err != nil {
		return Snapshot{}, domain.ErrNotFound
	}
	snap, err := s.Store.Snapshot(ctx, orgID, id)
	if err != nil {
		return Snapshot{}, err
	}
	if snap.Status != SnapshotOpen || !s.Clock.Now().Before(snap.ExpiresAt) {
		return Snapshot{}, domain.NewError(domain.CodeSnapshotClosed, "the snapshot is committed or expired; begin a new one")
	}
	return snap, nil
}

// AddChunk applies the rows of b like a delta and remembers who they named,
// for the commit.
func (s *Publishing) AddChunk(ctx context.Context, orgID, snapshotID string, b Batch, deadline time.Time) (Result, error) {
	if err := checkSize(b); err != nil {
		return Result{}, err
	}
	var res Result
	err := s.withLock(ctx, orgID, func() error {
		if _, err := s.openSnapshot(ctx, orgID, snapshotID); err != nil {
			return err
		}
		var seen []RowRef
		var err error
		res, seen, err = s.apply(ctx, orgID, b, deadline)
		if err != nil {
			return err
		}
		return s.Store.AddSnapshotChunk(ctx, orgID, snapshotID, s.IDs.New(), seen)
	})
	return res, err
}

// CommitResult says what a snapshot's commit unpublished.
type CommitResult struct {
	Unpublished []RowRef `json:"unpublished"`
	NotWritten  []RowRef `json:"notWritten"`
}

// Commit closes the snapshot and unpublishes every employee and department
// it did not name. Their data stays; publishing them again restores them.
func (s *Publishing) Commit(ctx context.Context, orgID, snapshotID string) (CommitResult, error) {
	res := CommitResult{Unpublished: []RowRef{}, NotWritten: []RowRef{}}
	err := s.withLock(ctx, orgID, func() error {
		if _, err := s.openSnapshot(ctx, orgID, snapshotID); err != nil {
			return err
		}
		seen, err := s.Store.SnapshotSeen(ctx, orgID, snapshotID)
		if err != nil {
			return err
		}
		published, err := s.Store.Published(ctx, orgID)
		if err != nil {
			return err
		}
		var gone []RowRef
		var left []EmployeeChange
		for _, r := range published {
			if !seen[r] {
				gone = append(gone, r)
				if r.Kind == KindEmployee {
					left = append(left, EmployeeChange{Employee: Employee{ExternalID: r.ExternalID}, Existed: true, Unpublished: true})
				}
			}
		}
		failedSync, err := s.Cabinets.EmployeesChanged(ctx, orgID, left, s.Clock.Now(), time.Now().Add(s.LockFor/2))
		if err != nil {
			return err
		}
		if len(failedSync) > 0 {
			// Unpublish nobody whose cabinet is still enabled: committing
			// again finishes the job.
			keep := map[string]bool{}
			for _, id := range failedSync {
				keep[id] = true
			}
			var rest []RowRef
			for _, g := range gone {
				if g.Kind == KindEmployee && keep[g.ExternalID] {
					res.NotWritten = append(res.NotWritten, g)
					continue
				}
				rest = append(rest, g)
			}
			gone = rest
		}
		rr, err := s.pendingReroute(ctx, orgID)
		if err != nil {
			return err
		}
		var edit structureEdit
		for _, g := range gone {
			if g.Kind == KindEmployee {
				edit.goneEmps = append(edit.goneEmps, g.ExternalID)
			} else {
				edit.goneDepts = append(edit.goneDepts, g.ExternalID)
			}
		}
		change, err := s.structureChange(ctx, orgID, edit, nil, false, nil)
		if err != nil {
			return err
		}
		if err := s.markReroute(ctx, orgID, &rr, change); err != nil {
			return err
		}
		failed, err := s.Store.Unpublish(ctx, orgID, gone, s.Clock.Now())
		if err != nil {
			return err
		}
		failedSet := map[RowRef]bool{}
		for _, f := range failed {
			failedSet[f] = true
			res.NotWritten = append(res.NotWritten, f)
		}
		for _, g := range gone {
			if !failedSet[g] {
				res.Unpublished = append(res.Unpublished, g)
			}
		}
		if err := s.finishReroute(ctx, orgID, rr); err != nil {
			return err
		}
		if len(failed) > 0 || len(failedSync) > 0 {
			// Leave the snapshot open: committing again finishes the job.
			return nil
		}
		return s.Store.CloseSnapshot(ctx, orgID, snapshotID, s.Clock.Now())
	})
	return res, err
}

func checkSize(b Batch) error {
	if len(b.Employees) > MaxEmployeesPerRequest || len(b.Departments) > MaxDepartmentsPerRequest {
		return domain.NewError(domain.CodePayloadTooLarge, "a request carries at most 1000 employees and 1000 departments; send a snapshot in chunks")
	}
	return nil
}

// EmployeePage is one page of published employees.
type EmployeePage struct {
	Items      []PublishedEmployee `json:"items"`
	NextCursor string              `json:"nextCursor,omitempty"`
}

// List pages through published employees.
func (s *Directory) List(ctx context.Context, orgID string, f ListFilter, limit int, cursor string) (EmployeePage, error) {
	items, next, err := s.Store.Employees(ctx, orgID, f, limit, cursor)
	if err != nil {
		return EmployeePage{}, err
	}
	if items == nil {
		items = []PublishedEmployee{}
	}
	return EmployeePage{Items: items, NextCursor: next}, nil
}

// Employee reads one employee of the organization; another organization's
// answers like a missing one.
func (s *Directory) Employee(ctx context.Context, orgID, externalID string) (PublishedEmployee, error) {
	if _, err := ParseExternalID(externalID); err != nil {
		return PublishedEmployee{}, domain.ErrNotFound
	}
	return s.Store.Employee(ctx, orgID, externalID)
}

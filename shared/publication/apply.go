package publication

import (
	"context"
	"fmt"
	"sort"
	"time"

	"github.com/kabinet/kabinet/shared/platform"
)

// Counts summarizes what happened to the rows of one kind.
type Counts struct {
	Received  int `json:"received"`
	Written   int `json:"written"`
	Unchanged int `json:"unchanged"`
	Stale     int `json:"stale"`
	Rejected  int `json:"rejected"`
}

// Ineligible is a published employee who cannot get a cabinet, and why.
type Ineligible struct {
	ExternalID string           `json:"externalId"`
	Problems   []CabinetProblem `json:"problems"`
}

// Result is the answer to a delta or a chunk.
type Result struct {
	Departments Counts `json:"departments"`
	Employees   Counts `json:"employees"`
	// Rejected rows were not applied.
	Rejected []RowError `json:"rejected"`
	// CannotGetCabinet rows were applied, but the employee cannot get a cabinet.
	CannotGetCabinet []Ineligible `json:"cannotGetCabinet"`
	// Stale rows carried an older version than the one stored and were skipped.
	Stale []RowRef `json:"stale"`
	// NotWritten rows were valid but could not be written in time; send them again.
	NotWritten []RowRef `json:"notWritten"`
}

func newResult() Result {
	return Result{Rejected: []RowError{}, CannotGetCabinet: []Ineligible{}, Stale: []RowRef{}, NotWritten: []RowRef{}}
}

// apply validates b against itself and against what is stored, writes what
// is new or changed, and returns the result and the rows b named (for a
// snapshot's commit). Rows with invalid ids are not "named".
func (s *Publishing) apply(ctx context.Context, orgID string, b Batch, deadline time.Time) (Result, []RowRef, error) {
	now := s.Clock.Now()
	today := now.Format(time.DateOnly)
	res := newResult()
	res.Departments.Received, res.Employees.Received = len(b.Departments), len(b.Employees)
	platform.Count(ctx, "PublicationRows", len(b.Departments)+len(b.Employees))
	reject := func(errs []RowError) {
		res.Rejected = append(res.Rejected, errs...)
	}

	// Rows on their own, and duplicates within the request.
	depts, deptOrder, deptSeen, deptErrs := parseRows(b.Departments, KindDepartment,
		func(r DepartmentRow) string { return r.ExternalID }, parseDepartment)
	emps, empOrder, empSeen, empErrs := parseRows(b.Employees, KindEmployee,
		func(r EmployeeRow) string { return r.ExternalID },
		func(r EmployeeRow) (Employee, []RowError) { return parseEmployee(r, s.ParsePhone, today) })
	seen := append(deptSeen, empSeen...)
	reject(deptErrs)
	reject(empErrs)

	// What is stored: the departments (all of them when the request changes
	// departments, since a cycle can run through any of them; otherwise only
	// those its employees name), and the employees this request names, as
	// rows or as heads and director.
	var stored []StoredDepartment
	var err error
	if len(b.Departments) > 0 {
		stored, err = s.Store.Departments(ctx, orgID)
	} else {
		named := map[string]bool{}
		for _, id := range empOrder {
			if d := emps[id].DepartmentID; d != "" {
				named[d] = true
			}
		}
		ids := make([]string, 0, len(named))
		for id := range named {
			ids = append(ids, id)
		}
		sort.Strings(ids)
		stored, err = s.Store.DepartmentsByID(ctx, orgID, ids)
	}
	if err != nil {
		return Result{}, nil, err
	}
	storedDepts := map[string]StoredDepartment{}
	for _, d := range stored {
		storedDepts[d.ExternalID] = d
	}
	want := map[string]bool{}
	for _, id := range empOrder {
		want[id] = true
	}
	for _, id := range deptOrder {
		if h := depts[id].HeadID; h != "" {
			want[h] = true
		}
	}
	if b.Director != nil && b.Director.EmployeeID != "" {
		want[b.Director.EmployeeID] = true
	}
	ids := make([]string, 0, len(want))
	for id := range want {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	empStates, err := s.Store.EmployeeStates(ctx, orgID, ids)
	if err != nil {
		return Result{}, nil, err
	}

	// Departments against the organization: parents exist, no cycles.
	parentOf := func(id string) (string, bool) {
		if d, ok := depts[id]; ok {
			return d.ParentID, true
		}
		if d, ok := storedDepts[id]; ok && d.Published {
			return d.ParentID, true
		}
		return "", false
	}
	rejectDept := func(id, field, code, message string) {
		reject([]RowError{{Kind: KindDepartment, ExternalID: id, Field: field, Code: code, Message: message}})
		delete(depts, id)
	}
	// Cycles are judged on the whole graph before anything is taken out, so
	// the answer does not depend on the order of the rows.
	var cyclic []string
	for _, id := range deptOrder {
		if inCycle(id, parentOf) {
			cyclic = append(cyclic, id)
		}
	}
	for _, id := range cyclic {
		rejectDept(id, "parentId", "department_cycle", "the department would be its own ancestor")
	}
	// Then parents must exist; taking a department out can orphan another,
	// so repeat until nothing changes.
	for changed := true; changed; {
		changed = false
		for _, id := range deptOrder {
			d, ok := depts[id]
			if !ok || d.ParentID == "" {
				continue
			}
			if _, ok := parentOf(d.ParentID); !ok {
				rejectDept(id, "parentId", "unknown_department", "the parent department is not published")
				changed = true
			}
		}
	}
	// Employees' departments must be published (here or before).
	for _, id := range empOrder {
		e := emps[id]
		if e.DepartmentID == "" {
			continue
		}
		if _, ok := depts[e.DepartmentID]; ok {
			continue
		}
		if d, ok := storedDepts[e.DepartmentID]; ok && d.Published {
			continue
		}
		reject([]RowError{{Kind: KindEmployee, ExternalID: id, Field: "departmentId", Code: "unknown_department",
			Message: "the department is not published"}})
		delete(emps, id)
	}
	// Heads and the director must be published employees.
	isPublished := func(id string) bool {
		if _, ok := emps[id]; ok {
			return true
		}
		st, ok := empStates[id]
		return ok && st.Published
	}
	for _, id := range deptOrder {
		d, ok := depts[id]
		if ok && d.HeadID != "" && !isPublished(d.HeadID) {
			rejectDept(id, "headId", "unknown_head", "the head is not a published employee")
		}
	}
	var w Writes
	if b.Director != nil {
		dir := *b.Director
		if _, err := ParseExternalID(dir.EmployeeID); err != nil || dir.Version < 0 || !isPublished(dir.EmployeeID) {
			reject([]RowError{{Kind: KindDirector, ExternalID: dir.EmployeeID, Field: "employeeId", Code: "unknown_employee",
				Message: "the director must be a published employee"}})
		} else {
			w.Director = &dir
		}
	}
	res.Departments.Rejected = len(b.Departments) - len(depts)
	res.Employees.Rejected = len(b.Employees) - len(emps)

	// Newer or changed rows are written; older ones are stale.
	for _, id := range deptOrder {
		d, ok := depts[id]
		if !ok {
			continue
		}
		st, exists := storedDepts[id]
		switch compare(d.Version, d.Hash(), StoredState{Version: st.Version, Hash: st.Hash, Published: st.Published}, exists) {
		case stale:
			res.Departments.Stale++
			res.Stale = append(res.Stale, RowRef{KindDepartment, id})
		case unchanged:
			res.Departments.Unchanged++
		default:
			w.Departments = append(w.Departments, d)
		}
	}
	for _, id := range empOrder {
		e, ok := emps[id]
		if !ok {
			continue
		}
		if !e.Eligible() {
			res.CannotGetCabinet = append(res.CannotGetCabinet, Ineligible{ExternalID: id, Problems: e.CabinetProblems})
		}
		st, exists := empStates[id]
		switch compare(e.Version, e.Hash(), st, exists) {
		case stale:
			res.Employees.Stale++
			res.Stale = append(res.Stale, RowRef{KindEmployee, id})
		case unchanged:
			res.Employees.Unchanged++
		default:
			w.Employees = append(w.Employees, e)
		}
	}

	var before, after []EmployeeChange
	for _, e := range w.Employees {
		st, exists := empStates[e.ExternalID]
		ch := EmployeeChange{Employee: e, Existed: exists, WasEligible: exists && st.Published && st.Eligible}
		if exists && !ch.WasEligible && e.Eligible() {
			after = append(after, ch)
		} else {
			before = append(before, ch)
		}
	}
	unsynced, err := s.Cabinets.EmployeesChanged(ctx, orgID, before, now, deadline)
	if err != nil {
		return Result{}, nil, err
	}
	if len(unsynced) > 0 {
		// A row is written only once its cabinet is in step with it.
		skip := map[string]bool{}
		for _, id := range unsynced {
			skip[id] = true
			res.NotWritten = append(res.NotWritten, RowRef{KindEmployee, id})
		}
		kept := w.Employees[:0:0]
		for _, e := range w.Employees {
			if !skip[e.ExternalID] {
				kept = append(kept, e)
			}
		}
		w.Employees = kept
	}
	// What the rows change of the approvers is recorded before they are
	// written, with what an earlier call may have left to re-route.
	rr, err := s.pendingReroute(ctx, orgID)
	if err != nil {
		return Result{}, nil, err
	}
	change, err := s.structureChange(ctx, orgID, structureEdit{departments: w.Departments, employees: w.Employees, director: w.Director},
		storedDepts, len(b.Departments) > 0, empStates)
	if err != nil {
		return Result{}, nil, err
	}
	if err := s.markReroute(ctx, orgID, &rr, change); err != nil {
		return Result{}, nil, err
	}
	notWritten, err := s.Store.Write(ctx, orgID, w, now, deadline)
	if err != nil {
		return Result{}, nil, err
	}
	res.NotWritten = append(res.NotWritten, notWritten...)
	failed := map[RowRef]bool{}
	for _, r := range notWritten {
		failed[r] = true
	}
	for _, d := range w.Departments {
		if !failed[RowRef{KindDepartment, d.ExternalID}] {
			res.Departments.Written++
		}
	}
	var regained []EmployeeChange
	for _, ch := range after {
		if !failed[RowRef{KindEmployee, ch.Employee.ExternalID}] {
			regained = append(regained, ch)
		}
	}
	// The rows are written; a cabinet that could not be re-enabled stays
	// disabled (the safe side) and is logged for the responsible person to
	// see in the administration list.
	if failedSync, err := s.Cabinets.EmployeesChanged(ctx, orgID, regained, now, deadline); err != nil || len(failedSync) > 0 {
		platform.Logger(ctx).Error("cabinets not re-enabled after publication", "tenant", orgID, "employees", failedSync, "error", fmt.Sprint(err))
	}
	for _, e := range w.Employees {
		if !failed[RowRef{KindEmployee, e.ExternalID}] {
			res.Employees.Written++
		}
	}
	// Only what changed is re-routed, and nothing when nothing did; what an
	// earlier call failed to re-route is still marked, and re-routed now.
	if err := s.finishReroute(ctx, orgID, rr); err != nil {
		return Result{}, nil, err
	}
	return res, seen, nil
}

// inCycle reports whether walking up from id comes back to id.
func inCycle(id string, parentOf func(string) (string, bool)) bool {
	visited := map[string]bool{}
	cur := id
	for {
		parent, ok := parentOf(cur)
		if !ok || parent == "" {
			return false
		}
		if parent == id {
			return true
		}
		if visited[parent] {
			return false // a cycle above, not through id: reported on its own members
		}
		visited[parent] = true
		cur = parent
	}
}

// parseRows checks each row on its own and rejects every row whose id the
// request repeats. It returns the valid rows by id, their ids in request
// order, the rows named (any with a well-formed id: a snapshot keeps them
// even when a typo rejects the row), and the row errors.
func parseRows[R any, V any](rows []R, kind string, idOf func(R) string, parse func(R) (V, []RowError)) (
	map[string]V, []string, []RowRef, []RowError) {
	count := map[string]int{}
	for _, r := range rows {
		count[idOf(r)]++
	}
	valid := map[string]V{}
	var order []string
	var seen []RowRef
	var rejected []RowError
	for _, r := range rows {
		id := idOf(r)
		v, errs := parse(r)
		if _, err := ParseExternalID(id); err == nil {
			seen = append(seen, RowRef{kind, id})
		}
		if count[id] > 1 {
			errs = append(errs, RowError{Kind: kind, ExternalID: id, Field: "externalId", Code: "duplicate_external_id",
				Message: "the request has this " + kind + " more than once"})
		}
		if len(errs) > 0 {
			rejected = append(rejected, errs...)
			continue
		}
		valid[id] = v
		order = append(order, id)
	}
	return valid, order, seen, rejected
}

// verdict is what to do with a valid row, given what is stored.
type verdict int

const (
	write verdict = iota
	unchanged
	stale
)

// compare: an older version than the stored one is stale and never
// overwrites it; the same version and fingerprint of a published row is
// unchanged and not written again; anything else is written (sources that
// send no version send 0, so a changed row with an equal version is written).
func compare(version int64, hash string, st StoredState, exists bool) verdict {
	switch {
	case exists && version < st.Version:
		return stale
	case exists && st.Published && version == st.Version && hash == st.Hash:
		return unchanged
	}
	return write
}

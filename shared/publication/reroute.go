package publication

import (
	"context"
	"sort"

	"github.com/kabinet/kabinet/shared/platform"
)

// rerouting is the re-routing one call owes: what an earlier call left
// pending, with what this call adds, and the version of the marker that
// records it (0: nothing recorded).
type rerouting struct {
	change  StructureChange
	version int64
}

// pendingReroute reads what an earlier call recorded and did not finish
// re-routing: its retry may carry rows that are unchanged by now, and must
// re-route all the same. Without approvals nothing is ever pending.
func (s *Publishing) pendingReroute(ctx context.Context, orgID string) (rerouting, error) {
	if s.Approvals == nil {
		return rerouting{}, nil
	}
	c, v, err := s.Store.PendingReroute(ctx, orgID)
	return rerouting{change: c, version: v}, err
}

// markReroute records c as pending before the rows that make it are
// written, so that whatever fails after the write, the next call re-routes.
func (s *Publishing) markReroute(ctx context.Context, orgID string, r *rerouting, c StructureChange) error {
	if s.Approvals == nil || c.Empty() || r.change.covers(c) {
		return nil
	}
	merged := r.change.Merge(c)
	if merged.All {
		c = StructureChange{All: true}
	}
	v, err := s.Store.MarkReroute(ctx, orgID, c)
	if err != nil {
		return err
	}
	r.change, r.version = merged, v
	return nil
}

// finishReroute tells the approvals what is owed, then forgets the marker.
// A failure leaves the marker, and fails the call: its retry re-routes.
func (s *Publishing) finishReroute(ctx context.Context, orgID string, r rerouting) error {
	if s.Approvals == nil {
		return nil
	}
	if !r.change.Empty() {
		if err := s.Approvals.StructureChanged(ctx, orgID, r.change); err != nil {
			return err
		}
	}
	if r.version != 0 {
		if err := s.Store.ClearReroute(ctx, orgID, r.version); err != nil {
			// Everything is re-routed: a marker left behind only makes the
			// next call re-route the same requests again, finding them in place.
			platform.Logger(ctx).Warn("clear pending re-routing", "tenant", orgID, "error", err.Error())
		}
	}
	return nil
}

// structureEdit is what one call does to the structure.
type structureEdit struct {
	departments []Department // written
	employees   []Employee   // written
	director    *DirectorRow // written
	goneDepts   []string     // unpublished
	goneEmps    []string     // unpublished
}

// structureChange is what e changes of the structure approvals follow,
// against what is stored: stored are the stored departments read so far
// (all of them when all is set), states the stored state of the written
// employees. Only what can change an approver counts: a department's head
// or parent, a department or an approver (un)published, an employee's
// department, the director. Names, phones and the like re-route nothing.
func (s *Publishing) structureChange(ctx context.Context, orgID string, e structureEdit, stored map[string]StoredDepartment, all bool,
	states map[string]StoredState) (StructureChange, error) {
	if s.Approvals == nil {
		return StructureChange{}, nil
	}
	roots := map[string]bool{}
	for _, d := range e.departments {
		// A department never stored before has no requests, and none below
		// it but departments moved there, counted on their own.
		if st, ok := stored[d.ExternalID]; ok && (!st.Published || st.ParentID != d.ParentID || st.HeadID != d.HeadID) {
			roots[d.ExternalID] = true
		}
	}
	for _, id := range e.goneDepts {
		roots[id] = true
	}
	// flipped: can approve now and could not before, or the other way round
	// (requests count only the published who can have a cabinet); own: whose
	// own requests change department.
	flipped, own := map[string]bool{}, map[string]bool{}
	for _, emp := range e.employees {
		st, ok := states[emp.ExternalID]
		if !ok {
			continue // never stored: has no requests, and heads nothing stored
		}
		was, now := st.Published && st.Eligible, emp.Eligible()
		switch {
		case was != now:
			flipped[emp.ExternalID], own[emp.ExternalID] = true, true
		case now && st.DepartmentID != emp.DepartmentID:
			own[emp.ExternalID] = true
		}
	}
	for _, id := range e.goneEmps {
		flipped[id], own[id] = true, true
	}
	if e.director != nil || len(flipped) > 0 {
		dir, err := s.Store.Director(ctx, orgID)
		if err != nil {
			return StructureChange{}, err
		}
		// The director ends every chain.
		if e.director != nil && e.director.EmployeeID != dir || flipped[dir] || e.director != nil && flipped[e.director.EmployeeID] {
			return StructureChange{All: true}, nil
		}
	}
	c := StructureChange{Employees: sortedKeys(own)}
	if len(roots) == 0 && len(flipped) == 0 {
		return c, nil
	}
	if !all {
		ds, err := s.Store.Departments(ctx, orgID)
		if err != nil {
			return StructureChange{}, err
		}
		stored = make(map[string]StoredDepartment, len(ds))
		for _, d := range ds {
			stored[d.ExternalID] = d
		}
	}
	// The tree as stored and as written, both: a department moved away is
	// below both parents, and a head replaced heads it both ways.
	children := map[string][]string{}
	edge := func(d Department) {
		if d.ParentID != "" {
			children[d.ParentID] = append(children[d.ParentID], d.ExternalID)
		}
		if flipped[d.HeadID] {
			roots[d.ExternalID] = true
		}
	}
	for _, d := range stored {
		edge(d.Department)
	}
	for _, d := range e.departments {
		edge(d)
	}
	below := map[string]bool{}
	queue := sortedKeys(roots)
	for len(queue) > 0 {
		id := queue[0]
		queue = queue[1:]
		if below[id] {
			continue
		}
		below[id] = true
		queue = append(queue, children[id]...)
	}
	c.Departments = sortedKeys(below)
	return c, nil
}

func sortedKeys(m map[string]bool) []string {
	if len(m) == 0 {
		return nil
	}
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

package requests

import (
	"context"
	"time"
)

// Department is what routing needs of a published department.
type Department struct {
	ID       string
	ParentID string
	HeadID   string
}

// Structure reads the organization's structure as publication left it.
type Structure interface {
	// Department reads a published department; ok is false when absent
	// or unpublished.
	Department(ctx context.Context, id string) (Department, bool, error)
	// Published reports whether an employee is published and not
	// dismissed: only such a person can approve.
	Published(ctx context.Context, employeeID string) (bool, error)
	// Director is the director's employee id, empty when none.
	Director(ctx context.Context) (string, error)
}

// maxDepth bounds the walk up the departments (publication refuses cycles;
// this guards against a structure changed halfway).
const maxDepth = 64

// ApproverChain is who may approve a request of employee in department, in
// order: the head of the department, then of each parent department up,
// then the director. The employee never appears in it (nobody approves
// their own request), nor does anyone twice or anyone unpublished. An
// empty chain means nobody can approve.
func ApproverChain(ctx context.Context, s Structure, employeeID, departmentID string) ([]string, error) {
	var chain []string
	seen := map[string]bool{employeeID: true}
	add := func(id string) error {
		if id == "" || seen[id] {
			return nil
		}
		seen[id] = true
		ok, err := s.Published(ctx, id)
		if err != nil || !ok {
			return err
		}
		chain = append(chain, id)
		return nil
	}
	visited := map[string]bool{}
	for id, depth := departmentID, 0; id != "" && !visited[id] && depth < maxDepth; depth++ {
		visited[id] = true
		d, ok, err := s.Department(ctx, id)
		if err != nil {
			return nil, err
		}
		if !ok {
			break
		}
		if err := add(d.HeadID); err != nil {
			return nil, err
		}
		id = d.ParentID
	}
	dir, err := s.Director(ctx)
	if err != nil {
		return nil, err
	}
	if err := add(dir); err != nil {
		return nil, err
	}
	return chain, nil
}

// route points r at level of chain: the approver at that level (the top
// one when the chain is shorter), or NoApprover when the chain is empty.
// It returns the approver, empty for none.
func (r *Request) route(chain []string, level int, st Settings, now time.Time) string {
	if len(chain) == 0 {
		r.State, r.ApproverID, r.Level, r.DueAt = NoApprover, "", 0, time.Time{}
		return ""
	}
	if level >= len(chain) {
		level = len(chain) - 1
	}
	top := level == len(chain)-1
	if r.ApproverID != chain[level] {
		r.AssignedAt, r.RemindedAt = now, time.Time{}
	}
	r.State, r.ApproverID, r.Level = PendingApproval, chain[level], level
	r.DueAt = st.nextDue(r.AssignedAt, r.RemindedAt, top)
	return r.ApproverID
}

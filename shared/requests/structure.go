package requests

import (
	"context"
	"errors"

	"github.com/kabinet/kabinet/shared/domain"
)

func isNotFound(err error) bool { return errors.Is(err, domain.ErrNotFound) }

// structure reads the organization's departments, employees and director
// from the store, each once per use case.
type structure struct {
	store    Store
	orgID    string
	depts    map[string]*Department
	people   map[string]bool
	director *string
}

func (s *deps) structure(orgID string) *structure {
	return &structure{store: s.Store, orgID: orgID, depts: map[string]*Department{}, people: map[string]bool{}}
}

func (st *structure) Department(ctx context.Context, id string) (Department, bool, error) {
	if d, ok := st.depts[id]; ok {
		if d == nil {
			return Department{}, false, nil
		}
		return *d, true, nil
	}
	d, ok, err := st.store.Department(ctx, st.orgID, id)
	if err != nil {
		return Department{}, false, err
	}
	if !ok {
		st.depts[id] = nil
		return Department{}, false, nil
	}
	st.depts[id] = &d
	return d, true, nil
}

func (st *structure) Published(ctx context.Context, id string) (bool, error) {
	if ok, seen := st.people[id]; seen {
		return ok, nil
	}
	e, err := st.store.Employee(ctx, st.orgID, id)
	if err != nil && !isNotFound(err) {
		return false, err
	}
	st.people[id] = err == nil && e.Published
	return st.people[id], nil
}

// know records employees read in a batch, so Published needs no read.
func (st *structure) know(es map[string]Employee) {
	for id, e := range es {
		st.people[id] = e.Published
	}
}

func (st *structure) Director(ctx context.Context) (string, error) {
	if st.director != nil {
		return *st.director, nil
	}
	d, err := st.store.Director(ctx, st.orgID)
	if err != nil {
		return "", err
	}
	st.director = &d
	return d, nil
}

package requests

import (
	"context"
	"errors"
	"time"

	"github.com/kabinet/kabinet/shared/domain"
)

// ActorOf is who a signed-in caller is, read from their account: a
// disabled employee (unpublished, dismissed) acts no more, even with an
// access token still unexpired.
func (s *Requests) ActorOf(ctx context.Context, orgID, personID string, role domain.Role) (Actor, error) {
	p, err := s.Store.Person(ctx, orgID, personID)
	if err != nil {
		if isNotFound(err) {
			return Actor{}, domain.NewError(domain.CodeUnauthorized, "the account no longer exists")
		}
		return Actor{}, err
	}
	if p.Disabled || p.Role != role || (role == domain.RoleEmployee && p.EmployeeID == "") {
		return Actor{}, domain.NewError(domain.CodeForbidden, "this account cannot act on requests")
	}
	return Actor{OrganizationID: orgID, PersonID: personID, EmployeeID: p.EmployeeID, Role: role, Name: p.FullName}, nil
}

// TypesFor lists the types the organization accepts, as employees see them.
func (s *Requests) TypesFor(ctx context.Context, orgID string) ([]TypeView, error) {
	st, err := s.Store.Settings(ctx, orgID)
	if err != nil {
		return nil, err
	}
	out := []TypeView{}
	for _, t := range Types {
		if ts := st.Type(t); ts.Enabled {
			out = append(out, TypeView{Type: t, Title: t.Title(), NeedsApproval: ts.NeedsApproval, Fields: typeSpecs[t].fields})
		}
	}
	return out, nil
}

// SettingsOf shows the organization's request settings, every type listed.
func (s *Requests) SettingsOf(ctx context.Context, orgID string) (Settings, error) {
	st, err := s.Store.Settings(ctx, orgID)
	if err != nil {
		return Settings{}, err
	}
	for _, t := range Types {
		st.Types[t] = st.Type(t)
	}
	return st, nil
}

// UpdateSettings changes the request settings. Every processor named must
// be a published employee of the organization.
func (s *Requests) UpdateSettings(ctx context.Context, orgID string, in SettingsInput) (Settings, error) {
	st, err := s.Store.Settings(ctx, orgID)
	if err != nil {
		return Settings{}, err
	}
	prev := st.Version
	processors, err := in.apply(&st)
	if err != nil {
		return Settings{}, err
	}
	if len(processors) > 0 {
		emps, err := s.Store.Employees(ctx, orgID, processors)
		if err != nil {
			return Settings{}, err
		}
		var p domain.Problems
		for _, id := range processors {
			if !emps[id].Published {
				p.Add("processing", "unknown_employee", "processor "+id+" is not a published employee")
			}
		}
		if err := p.Err(); err != nil {
			return Settings{}, err
		}
	}
	st.Version++
	if err := s.Store.SaveSettings(ctx, st, prev); err != nil {
		if errors.Is(err, ErrStale) {
			return Settings{}, domain.NewError(domain.CodeConflict, "the settings changed meanwhile; reload and retry")
		}
		return Settings{}, err
	}
	// This instance routes by the new settings from its next step on
	// (the others do anyway: every step reads the settings anew).
	s.cache.settingsRead(orgID, st)
	return s.SettingsOf(ctx, orgID)
}

// DeputyInput names a deputy for a range of days.
type DeputyInput struct {
	DeputyID string `json:"deputyId"`
	From     string `json:"from"`
	To       string `json:"to"`
}

// maxDeputyDays bounds one delegation.
const maxDeputyDays = 366

// mayManageDeputy: a manager names their own deputy; the responsible
// person names anyone's.
func mayManageDeputy(a Actor, managerID string) error {
	if a.Role == domain.RoleResponsiblePerson || (a.EmployeeID != "" && a.EmployeeID == managerID) {
		return nil
	}
	return domain.NewError(domain.CodeForbidden, "a manager names their own deputy; the responsible person anyone's")
}

// SetDeputy names managerID's deputy. From then on (during the days named)
// the deputy sees and decides the manager's pending approvals, new and old,
// on the manager's behalf; a deputy's own deputy does not.
func (s *Requests) SetDeputy(ctx context.Context, a Actor, managerID string, in DeputyInput) (Deputy, error) {
	if err := mayManageDeputy(a, managerID); err != nil {
		return Deputy{}, err
	}
	now := s.Clock.Now()
	var p domain.Problems
	from, errFrom := time.Parse(time.DateOnly, in.From)
	to, errTo := time.Parse(time.DateOnly, in.To)
	switch {
	case !validID(in.DeputyID):
		p.Add("deputyId", "id_format", "deputyId is a published employee's id")
	case in.DeputyID == managerID:
		p.Add("deputyId", "self", "a manager cannot be their own deputy")
	}
	switch {
	case errFrom != nil:
		p.Add("from", "date_format", "from must be a date YYYY-MM-DD")
	case errTo != nil:
		p.Add("to", "date_format", "to must be a date YYYY-MM-DD")
	case to.Before(from):
		p.Add("to", "end_before_start", "to must not be before from")
	case to.Before(today(now)):
		p.Add("to", "date_in_past", "to must not be in the past")
	case to.Sub(from) > maxDeputyDays*24*time.Hour:
		p.Add("to", "out_of_range", "a delegation lasts at most a year")
	}
	if err := p.Err(); err != nil {
		return Deputy{}, err
	}
	emps, err := s.Store.Employees(ctx, a.orgID(), []string{managerID, in.DeputyID})
	if err != nil {
		return Deputy{}, err
	}
	if !emps[managerID].Published {
		return Deputy{}, domain.ErrNotFound
	}
	if !emps[in.DeputyID].Published {
		p.Add("deputyId", "unknown_employee", "the deputy must be a published employee")
		return Deputy{}, p.Err()
	}
	old, err := s.Store.Deputy(ctx, a.orgID(), managerID)
	if err != nil && !isNotFound(err) {
		return Deputy{}, err
	}
	d := Deputy{OrganizationID: a.orgID(), ManagerID: managerID, DeputyID: in.DeputyID, From: in.From, To: in.To,
		SetBy: a.Who(), UpdatedAt: now, Version: old.Version + 1}
	if err := s.Store.SaveDeputy(ctx, d, old.Version); err != nil {
		if errors.Is(err, ErrStale) {
			return Deputy{}, domain.NewError(domain.CodeConflict, "the deputy changed meanwhile; retry")
		}
		return Deputy{}, err
	}
	return d, nil
}

// DeputyOf shows managerID's deputy.
func (s *Requests) DeputyOf(ctx context.Context, a Actor, managerID string) (Deputy, error) {
	if err := mayManageDeputy(a, managerID); err != nil {
		return Deputy{}, err
	}
	return s.Store.Deputy(ctx, a.orgID(), managerID)
}

// RemoveDeputy ends managerID's delegation at once.
func (s *Requests) RemoveDeputy(ctx context.Context, a Actor, managerID string) error {
	if err := mayManageDeputy(a, managerID); err != nil {
		return err
	}
	if _, err := s.Store.Deputy(ctx, a.orgID(), managerID); err != nil {
		return err
	}
	return s.Store.DeleteDeputy(ctx, a.orgID(), managerID)
}

package requests

import (
	"context"
	"strconv"
	"strings"

	"github.com/kabinet/kabinet/shared/domain"
	"github.com/kabinet/kabinet/shared/notify"
	"github.com/kabinet/kabinet/shared/platform"
)

// notes builds the notifications of one step, reading what they need of
// the organization (its name, its templates, its quiet hours) once, from
// the warm function's cache when fresh. The contacts and deputy records a
// step read ahead, together with the rest (fetch), are used without
// another read.
type notes struct {
	s      *deps
	orgID  string
	loaded bool
	org    domain.Organization
	tpls   map[notify.Kind]notify.Template
	prefs  notify.Preferences
	msgs   []notify.Message
	// w is the organization's org-wide items, when the step read them.
	w *orgWide

	// contacts and deputies read ahead: a key present means read (a
	// missing value then means none).
	contacts map[string]*Contact
	deputies map[string]*Deputy
}

func (s *deps) newNotes(orgID string) *notes {
	return &notes{s: s, orgID: orgID, contacts: map[string]*Contact{}, deputies: map[string]*Deputy{}}
}

// use takes the organization's name, templates and preferences from w
// (read with the step's other items), for when a message is built.
func (n *notes) use(w orgWide) { n.w = &w }

func (n *notes) load(ctx context.Context) error {
	if n.loaded {
		return nil
	}
	if n.w == nil {
		w, err := n.s.orgWide(ctx, n.orgID)
		if err != nil {
			return err
		}
		n.w = &w
	}
	if n.w.org == nil {
		return domain.ErrNotFound
	}
	n.org, n.tpls, n.prefs, n.loaded = *n.w.org, n.w.tpls, n.w.prefs, true
	return nil
}

// know records the contacts and deputy records l asked for and f found.
func (n *notes) know(l Lookup, f Found) {
	for _, id := range l.Contacts {
		if id == "" {
			continue
		}
		n.contacts[id] = nil
		if c, ok := f.Contacts[id]; ok {
			n.contacts[id] = &c
		}
	}
	if l.Responsible != "" {
		n.contacts[""] = nil
		if c, ok := f.Contacts[""]; ok {
			n.contacts[""] = &c
		}
	}
	for _, id := range l.Deputies {
		n.deputies[id] = nil
		if d, ok := f.Deputies[id]; ok {
			n.deputies[id] = &d
		}
	}
}

// fetch reads l (without the org-wide items) and records its contacts
// and deputy records.
func (n *notes) fetch(ctx context.Context, l Lookup) (Found, error) {
	f, err := n.s.Store.Read(ctx, n.orgID, l)
	if err != nil {
		return Found{}, err
	}
	n.know(l, f)
	return f, nil
}

// readContacts reads the contact of employeeID (the responsible person's
// when empty) unless read ahead already.
func (n *notes) readContacts(ctx context.Context, w orgWide, employeeID string) error {
	if _, read := n.contacts[employeeID]; read {
		return nil
	}
	l := Lookup{Contacts: nonEmpty(employeeID)}
	if employeeID == "" {
		if l.Responsible = w.responsibleID(); l.Responsible == "" {
			return nil // toPerson asks the store
		}
	}
	_, err := n.fetch(ctx, l)
	return err
}

// nonEmpty is ids without the empty ones.
func nonEmpty(ids ...string) []string {
	out := make([]string, 0, len(ids))
	for _, id := range ids {
		if id != "" {
			out = append(out, id)
		}
	}
	return out
}

// deputy is managerID's deputy record, read ahead or read now;
// domain.ErrNotFound when none.
func (n *notes) deputy(ctx context.Context, managerID string) (Deputy, error) {
	if d, ok := n.deputies[managerID]; ok {
		if d == nil {
			return Deputy{}, domain.ErrNotFound
		}
		return *d, nil
	}
	return n.s.Store.Deputy(ctx, n.orgID, managerID)
}

// link is where people open the request; built from the configured base
// URL alone.
func (s *deps) link(id string) string {
	return strings.TrimRight(s.Config.PublicBaseURL, "/") + "/requests/" + id
}

// add renders kind about r for the person at c (employeeID empty for the
// responsible person) and stages it. The id is fixed by the request's
// version: a retried step that lost its write stages nothing twice.
func (n *notes) add(ctx context.Context, r *Request, kind notify.Kind, c Contact, employeeID, reason, suffix string) error {
	if err := n.load(ctx); err != nil {
		return err
	}
	t, ok := n.tpls[kind]
	if !ok {
		t, _ = notify.DefaultTemplate(kind)
	}
	v := notify.Values{EmployeeName: r.EmployeeName, Organization: n.org.Name, Link: n.s.link(r.ID),
		RequestType: r.Type.Title(), RequestNumber: strconv.FormatInt(r.Number, 10), Reason: reason}
	m := notify.Message{ID: r.ID + "." + strconv.FormatInt(r.Version, 10) + "." + string(kind) + suffix,
		OrganizationID: r.OrganizationID, Kind: kind, Channel: c.Channel, To: c.To,
		CreatedAt: n.s.Clock.Now(), EmployeeID: employeeID}
	notify.Render(kind, t, v).Into(&m)
	if suffix == reminderSuffix {
		m.Text = "Напоминание. " + m.Text
		if m.Subject != "" {
			m.Subject = "Напоминание: " + m.Subject
		}
	}
	notify.Hold(&m, n.prefs.QuietHours, n.s.Clock.Now())
	n.msgs = append(n.msgs, m)
	return nil
}

const reminderSuffix = ".reminder"

// toEmployee notifies the employee whose request it is.
func (n *notes) toEmployee(ctx context.Context, r *Request, kind notify.Kind, reason string) error {
	return n.toPerson(ctx, r, kind, r.EmployeeID, reason, "")
}

// toProcessor notifies whoever carries r out.
func (n *notes) toProcessor(ctx context.Context, r *Request, kind notify.Kind) error {
	return n.toPerson(ctx, r, kind, r.ProcessorID, "", "")
}

// toPerson notifies an employee (employeeID) or, when empty, the
// responsible person. Someone without an active cabinet gets nothing
// (logged): there is nowhere to open the request.
func (n *notes) toPerson(ctx context.Context, r *Request, kind notify.Kind, employeeID, reason, suffix string) error {
	var c Contact
	var ok bool
	var err error
	if known, read := n.contacts[employeeID]; read {
		if ok = known != nil; ok {
			c = *known
		}
	} else if employeeID == "" {
		c, ok, err = n.s.Store.ResponsibleContact(ctx, r.OrganizationID)
	} else {
		c, ok, err = n.s.Store.EmployeeContact(ctx, r.OrganizationID, employeeID)
	}
	if err != nil {
		return err
	}
	if !ok {
		platform.Logger(ctx).Info("request notification not sent: no active cabinet", "request", r.ID, "kind", string(kind), "to", employeeID)
		return nil
	}
	return n.add(ctx, r, kind, c, employeeID, reason, suffix)
}

// noteArrival tells whoever is to decide r that it waits for them: the
// approver, or their deputy in office, or, without an approver, the
// responsible person.
func (s *deps) noteArrival(ctx context.Context, n *notes, r *Request, reminder bool) error {
	suffix := ""
	if reminder {
		suffix = reminderSuffix
	}
	if r.State == NoApprover {
		return n.toPerson(ctx, r, notify.KindRequestSubmitted, "", "", suffix)
	}
	to := r.ApproverID
	d, err := n.deputy(ctx, r.ApproverID)
	// A deputy who is the request's employee cannot decide it: the approver
	// is told instead.
	if err == nil && d.ActiveOn(day(s.Clock.Now())) && d.DeputyID != r.EmployeeID {
		to = d.DeputyID
	} else if err != nil && !isNotFound(err) {
		return err
	}
	return n.toPerson(ctx, r, notify.KindRequestSubmitted, to, "", suffix)
}

package requests

import (
	"context"
	"time"

	"github.com/kabinet/kabinet/shared/domain"
	"github.com/kabinet/kabinet/shared/notify"
)

// ErrStale means a conditional write lost to a concurrent one.
var ErrStale = domain.ErrStale

// Employee is what requests need of a published employee.
type Employee struct {
	ID           string
	FullName     string
	DepartmentID string
	// Published: published and able to have a cabinet (not dismissed, with
	// a phone and an e-mail): only such a person can submit, approve or
	// process.
	Published bool
}

// Contact is where a message to a person goes.
type Contact struct {
	Channel domain.Channel
	To      string
}

// Deputy (замещение): DeputyID decides ManagerID's approvals from From to
// To (calendar days, inclusive). One deputy per manager at a time.
type Deputy struct {
	OrganizationID string `json:"-"`
	ManagerID      string `json:"managerId"`
	DeputyID       string `json:"deputyId"`
	From           string `json:"from"`
	To             string `json:"to"`
	// SetBy is who named the deputy: the manager's employee id or
	// "responsible_person".
	SetBy     string    `json:"setBy"`
	UpdatedAt time.Time `json:"updatedAt"`
	Version   int64     `json:"version"`
}

// ActiveOn reports whether the deputy acts on day (YYYY-MM-DD).
func (d Deputy) ActiveOn(day string) bool { return d.From <= day && day <= d.To }

// InboxKind says whose work a list of requests is.
type InboxKind string

// The inboxes.
const (
	// InboxApprovals: pending approvals of one approver.
	InboxApprovals InboxKind = "approvals"
	// InboxNoApprover: the requests nobody can approve (the responsible
	// person's to decide).
	InboxNoApprover InboxKind = "no_approver"
	// InboxProcessing: requests to carry out (to_process, in_work) of one
	// processor; Owner empty for the responsible person.
	InboxProcessing InboxKind = "processing"
)

// Inbox names one list of work.
type Inbox struct {
	Kind  InboxKind
	Owner string // an employee id; empty for the responsible person's
}

// InboxOf is the inbox r is in now, if any.
func InboxOf(r Request) (Inbox, bool) {
	switch r.State {
	case PendingApproval:
		return Inbox{InboxApprovals, r.ApproverID}, true
	case NoApprover:
		return Inbox{Kind: InboxNoApprover}, true
	case ToProcess, InWork:
		return Inbox{InboxProcessing, r.ProcessorID}, true
	}
	return Inbox{}, false
}

// Store is the persistence requests need.
type Store interface {
	// Read reads every item l names together (one round trip), as the
	// single reads below would each return it: see Lookup and Found.
	Read(ctx context.Context, orgID string, l Lookup) (Found, error)

	Organization(ctx context.Context, orgID string) (domain.Organization, error)
	// Person reads a signed-in person's account (domain.ErrNotFound when absent).
	Person(ctx context.Context, orgID, personID string) (domain.Person, error)
	Settings(ctx context.Context, orgID string) (Settings, error) // defaults when never saved
	// SaveSettings stores s if the stored version is still prevVersion.
	SaveSettings(ctx context.Context, s Settings, prevVersion int64) error

	// Employee reads a published (or once published) employee; ErrNotFound
	// for one never published.
	Employee(ctx context.Context, orgID, id string) (Employee, error)
	// Employees reads the named employees; absent ones are left out.
	Employees(ctx context.Context, orgID string, ids []string) (map[string]Employee, error)
	// Department reads a published department; ok false when absent.
	Department(ctx context.Context, orgID, id string) (Department, bool, error)
	// Director is the director's employee id, empty when none.
	Director(ctx context.Context, orgID string) (string, error)

	Deputy(ctx context.Context, orgID, managerID string) (Deputy, error) // ErrNotFound when none
	// DeputiesOf lists the delegations that name deputyID (at most 100).
	DeputiesOf(ctx context.Context, orgID, deputyID string) ([]Deputy, error)
	// SaveDeputy stores d if the stored version is still prevVersion (0: none).
	SaveDeputy(ctx context.Context, d Deputy, prevVersion int64) error
	DeleteDeputy(ctx context.Context, orgID, managerID string) error

	// NextNumber hands out the organization's next request number.
	NextNumber(ctx context.Context, orgID string) (int64, error)
	Request(ctx context.Context, orgID, id string) (Request, error) // ErrNotFound when absent
	// SaveRequest stores r if the stored version is still prevVersion (0:
	// new); ErrStale otherwise. The messages are staged in the outbox in the
	// same transaction, so a step and its notifications are one.
	SaveRequest(ctx context.Context, r Request, prevVersion int64, msgs ...notify.Message) error
	// EmployeeRequests pages through an employee's requests, newest first,
	// those with an id below before (all when empty).
	EmployeeRequests(ctx context.Context, orgID, employeeID, before string, limit int) ([]Request, error)
	// InboxRequests pages through an inbox, oldest first, those with an id
	// above after (all when empty).
	InboxRequests(ctx context.Context, orgID string, in Inbox, after string, limit int) ([]Request, error)
	// Awaiting pages through every request of the organization awaiting an
	// approval decision (pending or without approver), by department, then
	// oldest first, those after after (all when zero).
	Awaiting(ctx context.Context, orgID string, after AwaitingPlace, limit int) ([]Request, error)
	// DueRequests reads requests whose DueAt is not after now, across
	// organizations, at most limit per index shard.
	DueRequests(ctx context.Context, now time.Time, limit int) ([]Request, error)

	// EmployeeContact is where messages to an employee go: their active
	// cabinet's preferred channel; ok false without an active cabinet.
	EmployeeContact(ctx context.Context, orgID, employeeID string) (Contact, bool, error)
	// ResponsibleContact is where messages to the responsible person go.
	ResponsibleContact(ctx context.Context, orgID string) (Contact, bool, error)
	Templates(ctx context.Context, orgID string) (map[notify.Kind]notify.Template, error)
	NotificationPreferences(ctx context.Context, orgID string) (notify.Preferences, error)

	// AwaitingIn reads the requests awaiting an approval decision whose
	// department (Request.DepartmentID) is departmentID, oldest first.
	AwaitingIn(ctx context.Context, orgID, departmentID string) ([]Request, error)
	// AwaitingOf reads an employee's own requests awaiting an approval
	// decision, oldest first.
	AwaitingOf(ctx context.Context, orgID, employeeID string) ([]Request, error)
}

// AwaitingPlace is where a page of Awaiting ends: the department and id
// of its last request.
type AwaitingPlace struct {
	DepartmentID string
	ID           string
}

// AwaitingPlaceOf is the place of r in Awaiting.
func AwaitingPlaceOf(r Request) AwaitingPlace { return AwaitingPlace{r.DepartmentID, r.ID} }

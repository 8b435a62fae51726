package requests

import (
	"time"

	"github.com/kabinet/kabinet/shared/domain"
)

// State is where a request stands.
type State string

// The states. Rejected, cancelled, completed and declined are final.
const (
	// PendingApproval: waiting for the approver (or their deputy).
	PendingApproval State = "pending_approval"
	// NoApprover: nobody can approve it (no head up the departments, no
	// director other than the employee); the responsible person decides.
	// Never approved automatically.
	NoApprover State = "no_approver"
	Rejected   State = "rejected"
	Cancelled  State = "cancelled"
	// ToProcess: approved, or needing no approval; waiting for its processor.
	ToProcess State = "to_process"
	InWork    State = "in_work"
	Completed State = "completed"
	Declined  State = "declined"
)

// States lists every state.
var States = []State{PendingApproval, NoApprover, Rejected, Cancelled, ToProcess, InWork, Completed, Declined}

// Final reports whether nothing can happen to a request in s any more.
func (s State) Final() bool {
	return s == Rejected || s == Cancelled || s == Completed || s == Declined
}

// Awaiting reports whether s waits for an approval decision.
func (s State) Awaiting() bool { return s == PendingApproval || s == NoApprover }

// Action is a step of a request's life.
type Action string

// The actions. Submit, remind, escalate and reroute are the system's; the
// rest are people's.
const (
	ActSubmit   Action = "submit"
	ActCancel   Action = "cancel"
	ActApprove  Action = "approve"
	ActReject   Action = "reject"
	ActTake     Action = "take"
	ActComplete Action = "complete"
	ActDecline  Action = "decline"
	// ActEscalate moves a pending approval to the next approver up.
	ActEscalate Action = "escalate"
	// ActReroute moves a pending approval to the approver publication now names.
	ActReroute Action = "reroute"
)

// transitions is the state machine: from each state, the actions allowed
// and where they lead. Escalate and reroute may also lead to NoApprover or
// PendingApproval (see Request.route).
var transitions = map[State]map[Action]State{
	PendingApproval: {ActCancel: Cancelled, ActApprove: ToProcess, ActReject: Rejected, ActEscalate: PendingApproval, ActReroute: PendingApproval},
	NoApprover:      {ActCancel: Cancelled, ActApprove: ToProcess, ActReject: Rejected, ActReroute: PendingApproval},
	ToProcess:       {ActCancel: Cancelled, ActTake: InWork, ActDecline: Declined},
	InWork:          {ActComplete: Completed, ActDecline: Declined},
}

// Can reports whether action a is allowed on r now. Cancelling is allowed
// until a decision: while awaiting approval, or, for a request that needed
// none, until it is taken into work.
func (r *Request) Can(a Action) bool {
	if _, ok := transitions[r.State][a]; !ok {
		return false
	}
	if a == ActCancel && r.State == ToProcess && r.Approved {
		return false
	}
	return true
}

// Request is one employee's request.
type Request struct {
	ID             string
	OrganizationID string
	// Number is the organization's sequential number of the request, as
	// people quote it.
	Number       int64
	Type         Type
	Fields       Fields
	EmployeeID   string
	EmployeeName string
	DepartmentID string
	State        State
	// Version grows with every change; writes are conditional on it.
	Version       int64
	NeedsApproval bool
	// Approved: an approver approved it (false for types needing none).
	Approved bool
	// ApproverID is the employee who is to decide while pending; Level is
	// how many times it was escalated (0: the first approver in the chain).
	ApproverID string
	Level      int
	// AssignedAt is when the current approver got it; RemindedAt when they
	// were reminded. DueAt is when the escalation job next looks at it.
	AssignedAt time.Time
	RemindedAt time.Time
	DueAt      time.Time
	// ProcessorID is the employee carrying it out; empty with
	// ProcessorIsResponsible for the organization's responsible person.
	ProcessorID            string
	ProcessorIsResponsible bool
	History                []Step
	CreatedAt              time.Time
	UpdatedAt              time.Time
}

// Step is one entry of a request's history: who did what, when, and on
// whose behalf (a deputy acting for the approver).
type Step struct {
	At     time.Time `json:"at"`
	Action Action    `json:"action"`
	// By is who acted: an employee id, "responsible_person", or "system".
	By         string `json:"by"`
	ByName     string `json:"byName,omitempty"`
	OnBehalfOf string `json:"onBehalfOf,omitempty"`
	From       State  `json:"from,omitempty"`
	To         State  `json:"to"`
	// Approver is who the request went to (submit, escalate, reroute), and
	// FromApprover who had it before (escalate, reroute).
	Approver     string `json:"approver,omitempty"`
	FromApprover string `json:"fromApprover,omitempty"`
	Comment      string `json:"comment,omitempty"`
}

// Period is what the request is about.
func (r *Request) Period() Period { return period(r.Type, r.Fields, r.CreatedAt) }

// MaxHistory bounds a request's history, kept inside the request item.
// Reroutes are the only unbounded steps; past the bound the oldest reroute
// steps are dropped, never a decision.
const MaxHistory = 100

// Actor is who acts on a request.
type Actor struct {
	OrganizationID string
	PersonID       string
	EmployeeID     string // empty for the responsible person
	Role           domain.Role
	Name           string
}

// Who names a as a step's By.
func (a Actor) Who() string {
	if a.Role == domain.RoleResponsiblePerson {
		return ByResponsible
	}
	return a.EmployeeID
}

// Names of non-employee actors in history steps.
const (
	ByResponsible = "responsible_person"
	BySystem      = "system"
)

// record applies a to r and records the step; callers have checked Can(a).
func (r *Request) record(a Action, to State, s Step, now time.Time) {
	s.At, s.Action, s.From, s.To = now, a, r.State, to
	r.State = to
	r.Version++
	r.UpdatedAt = now
	r.History = append(r.History, s)
	if len(r.History) > MaxHistory {
		for i, h := range r.History {
			if h.Action == ActReroute || h.Action == ActEscalate {
				r.History = append(r.History[:i], r.History[i+1:]...)
				break
			}
		}
	}
}

package requests

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/kabinet/kabinet/shared/domain"
	"github.com/kabinet/kabinet/shared/notify"
	"github.com/kabinet/kabinet/shared/platform"
)

// Config holds what the deployment decides.
type Config struct {
	// PublicBaseURL is where people open a request: <base>/requests/<id>.
	PublicBaseURL string
	// JobPage is how many due requests the escalation job reads at a time.
	JobPage int
}

// deps are the ports of the request use cases; each use case below holds
// them all, checked by its constructor.
type deps struct {
	Store  Store
	Queue  notify.Queue
	Clock  platform.Clock
	IDs    platform.IDs
	Config Config
	// cache keeps what every step of an organization reads alike, for
	// the life of the warm function (nil: nothing kept).
	cache *orgCache
}

func newDeps(what string, store Store, queue notify.Queue, clock platform.Clock, ids platform.IDs, cfg Config) (deps, error) {
	err := platform.Required(what, "store", store, "queue", queue, "clock", clock, "ids", ids)
	return deps{Store: store, Queue: queue, Clock: clock, IDs: ids, Config: cfg, cache: newOrgCache()}, err
}

// Requests are the employees' requests, their approval and processing,
// deputies and the request settings (RequestsFunction).
type Requests struct{ deps }

// NewRequests builds the requests use case; no port may be nil.
func NewRequests(store Store, queue notify.Queue, clock platform.Clock, ids platform.IDs, cfg Config) (*Requests, error) {
	d, err := newDeps("requests.Requests", store, queue, clock, ids, cfg)
	if err != nil {
		return nil, err
	}
	return &Requests{d}, nil
}

// Escalation reminds approvers of waiting requests and escalates them
// (RequestJobFunction).
type Escalation struct{ deps }

// NewEscalation builds the escalation job; no port may be nil.
func NewEscalation(store Store, queue notify.Queue, clock platform.Clock, ids platform.IDs, cfg Config) (*Escalation, error) {
	d, err := newDeps("requests.Escalation", store, queue, clock, ids, cfg)
	if err != nil {
		return nil, err
	}
	return &Escalation{d}, nil
}

// Rerouting moves pending approvals to the approvers a new structure
// gives them (PublicationFunction).
type Rerouting struct{ deps }

// NewRerouting builds the re-routing use case; no port may be nil.
func NewRerouting(store Store, queue notify.Queue, clock platform.Clock, ids platform.IDs, cfg Config) (*Rerouting, error) {
	d, err := newDeps("requests.Rerouting", store, queue, clock, ids, cfg)
	if err != nil {
		return nil, err
	}
	return &Rerouting{d}, nil
}

// moscow is the calendar requests' dates are judged by: Russian
// organizations, whose legal day is Moscow's.
var moscow = time.FixedZone("MSK", 3*60*60)

// today is the calendar day at now.
func today(now time.Time) time.Time {
	t := now.In(moscow)
	return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
}

func day(now time.Time) string { return today(now).Format(time.DateOnly) }

func stateConflict(r Request) error {
	return domain.NewError(domain.CodeRequestState, "the request is "+string(r.State)+"; this action no longer applies")
}

// SubmitInput is a new request.
type SubmitInput struct {
	Type   string          `json:"type"`
	Fields json.RawMessage `json:"fields"`
}

// Submit files a request of the signed-in employee: routed to its approver
// (or to the responsible person when nobody can approve), or, for a type
// needing no approval, handed straight to its processor.
func (s *Requests) Submit(ctx context.Context, a Actor, in SubmitInput) (View, error) {
	now := s.Clock.Now()
	t, ok := ParseType(in.Type)
	var p domain.Problems
	if !ok {
		p.Add("type", "unknown_type", "type must be one of the request types")
		return View{}, p.Err()
	}
	// The settings and the employee in one read, with the organization's
	// name, templates and preferences unless the cache has them.
	w, f, err := s.read(ctx, a.orgID(), Lookup{Settings: true, Employees: nonEmpty(a.EmployeeID)})
	if err != nil {
		return View{}, err
	}
	st := w.settings
	if !st.Type(t).Enabled {
		p.Add("type", "type_disabled", "the organization does not accept requests of this type")
		return View{}, p.Err()
	}
	fields, err := ParseFields(t, in.Fields, today(now))
	if err != nil {
		return View{}, err
	}
	emp, found := f.Employees[a.EmployeeID]
	if !found || !emp.Published || a.EmployeeID == "" {
		return View{}, domain.NewError(domain.CodeForbidden, "only published employees submit requests")
	}
	number, err := s.Store.NextNumber(ctx, a.orgID())
	if err != nil {
		return View{}, err
	}
	r := Request{ID: s.IDs.New(), OrganizationID: a.orgID(), Number: number, Type: t, Fields: fields,
		EmployeeID: emp.ID, EmployeeName: emp.FullName, DepartmentID: emp.DepartmentID,
		NeedsApproval: st.Type(t).NeedsApproval, CreatedAt: now}
	n := s.newNotes(a.orgID())
	n.use(w)
	step := Step{By: a.Who(), ByName: a.Name}
	if r.NeedsApproval {
		// Only the first approver is routed to now (a new request starts
		// at level 0 and is not yet reminded, so where the chain tops out
		// does not change its due time): the rest of the chain is read
		// when the escalation needs it.
		approver, err := s.firstApprover(ctx, n, r.EmployeeID, r.DepartmentID)
		if err != nil {
			return View{}, err
		}
		var chain []string
		if approver != "" {
			chain = []string{approver}
		}
		step.Approver = r.route(chain, 0, st, now)
		r.Version, r.History = 1, []Step{{At: now, Action: ActSubmit, By: step.By, ByName: step.ByName, To: r.State, Approver: step.Approver}}
		if err := s.noteArrival(ctx, n, &r, false); err != nil {
			return View{}, err
		}
	} else {
		r.State = ToProcess
		s.handOff(&r, st)
		r.Version, r.History = 1, []Step{{At: now, Action: ActSubmit, By: step.By, ByName: step.ByName, To: ToProcess}}
		if err := n.readContacts(ctx, w, r.ProcessorID); err != nil {
			return View{}, err
		}
		if err := n.toProcessor(ctx, &r, notify.KindWorkAssigned); err != nil {
			return View{}, err
		}
	}
	r.UpdatedAt = now
	if err := s.Store.SaveRequest(ctx, r, 0, n.msgs...); err != nil {
		return View{}, err
	}
	notify.Dispatcher{Queue: s.Queue, Clock: s.Clock}.Dispatch(ctx, n.msgs...)
	return ViewOf(r), nil
}

// handOff names r's processor by the organization's rules.
func (s *deps) handOff(r *Request, st Settings) {
	r.ProcessorID = st.ProcessorFor(r.Type, r.DepartmentID)
	r.ProcessorIsResponsible = r.ProcessorID == ""
	r.ApproverID, r.DueAt = "", time.Time{}
}

// DecisionInput is an approver's decision: a comment on an approval, a
// reason (required) for a rejection.
type DecisionInput struct {
	Comment string `json:"comment"`
	Reason  string `json:"reason"`
}

// Decide approves or rejects r. The approver, their deputy while in
// office, or — for a request nobody can approve — the responsible person
// decides; nobody decides their own request. The decision, its history
// step, the hand-off to the processor and the notifications are one
// conditional write on the request's version: of two decisions at once,
// one is recorded and the other gets request_state_conflict.
func (s *Requests) Decide(ctx context.Context, a Actor, id string, approve bool, in DecisionInput) (View, error) {
	now := s.Clock.Now()
	text, err := decisionText(approve, in)
	if err != nil {
		return View{}, err
	}
	r, err := s.Store.Request(ctx, a.orgID(), id)
	if err != nil {
		return View{}, err
	}
	if !r.State.Awaiting() {
		return View{}, stateConflict(r)
	}
	// One read for the rest: the approver's deputy record (when someone
	// else decides), the employee's contact, and, for an approval, the
	// settings with the contact of the processor the cached settings
	// name (fresh or not: they are only a guess). Should the settings
	// read now name another processor, their contact is read on its own.
	l := Lookup{Contacts: []string{r.EmployeeID}, Settings: approve}
	if r.State == PendingApproval && a.EmployeeID != "" && a.EmployeeID != r.ApproverID && a.EmployeeID != r.EmployeeID {
		l.Deputies = []string{r.ApproverID}
	}
	if w, ok := s.cache.peek(r.OrganizationID); ok && approve {
		if p := w.settings.ProcessorFor(r.Type, r.DepartmentID); p != "" {
			l.Contacts = append(l.Contacts, p)
		} else {
			l.Responsible = w.responsibleID()
		}
	}
	w, f, err := s.read(ctx, r.OrganizationID, l)
	if err != nil {
		return View{}, err
	}
	n := s.newNotes(r.OrganizationID)
	n.know(l, f)
	onBehalf, err := s.mayDecide(ctx, n, a, r, now)
	if err != nil {
		return View{}, err
	}
	n.use(w)
	prev := r.Version
	step := Step{By: a.Who(), ByName: a.Name, OnBehalfOf: onBehalf, Comment: text}
	if approve {
		r.record(ActApprove, ToProcess, step, now)
		r.Approved = true
		s.handOff(&r, w.settings)
		if err := n.toEmployee(ctx, &r, notify.KindRequestApproved, ""); err != nil {
			return View{}, err
		}
		if err := n.readContacts(ctx, w, r.ProcessorID); err != nil {
			return View{}, err
		}
		if err := n.toProcessor(ctx, &r, notify.KindWorkAssigned); err != nil {
			return View{}, err
		}
	} else {
		r.record(ActReject, Rejected, step, now)
		r.ApproverID, r.DueAt = "", time.Time{}
		if err := n.toEmployee(ctx, &r, notify.KindRequestRejected, text); err != nil {
			return View{}, err
		}
	}
	if err := s.save(ctx, r, prev, n.msgs); err != nil {
		return View{}, err
	}
	return ViewOf(r), nil
}

// decisionText checks a decision's comment or reason.
func decisionText(required bool, in DecisionInput) (string, error) {
	var p domain.Problems
	field, text := "comment", in.Comment
	if !required {
		field, text = "reason", in.Reason
	}
	text = strings.TrimSpace(text)
	switch {
	case !required && text == "":
		p.Add(field, "required", "a rejection or a refusal needs a reason")
	case !cleanText(text, true):
		p.Add(field, "text_format", field+" must be valid text without control characters")
	case utf8.RuneCountInString(text) > maxComment:
		p.Add(field, "too_long", field+" is at most "+strconv.Itoa(maxComment)+" characters")
	}
	return text, p.Err()
}

// mayDecide says whether a may decide r now, and on whose behalf. A
// refusal is logged: an unassigned person trying to decide is worth a look.
func (s *deps) mayDecide(ctx context.Context, n *notes, a Actor, r Request, now time.Time) (onBehalf string, err error) {
	refuse := func(why string) (string, error) {
		platform.Logger(ctx).Warn("request decision refused", "request", r.ID, "actor", a.Who(), "approver", r.ApproverID, "why", why)
		return "", domain.NewError(domain.CodeNotAssigned, "you are not the approver of this request")
	}
	if a.EmployeeID != "" && a.EmployeeID == r.EmployeeID {
		return refuse("own request")
	}
	if r.State == NoApprover {
		if a.Role == domain.RoleResponsiblePerson {
			return "", nil
		}
		return refuse("no approver: the responsible person decides")
	}
	if a.EmployeeID == "" {
		return refuse("not an employee")
	}
	if a.EmployeeID == r.ApproverID {
		return "", nil
	}
	d, err := n.deputy(ctx, r.ApproverID)
	if err != nil && !errors.Is(err, domain.ErrNotFound) {
		return "", err
	}
	if err == nil && d.DeputyID == a.EmployeeID && d.ActiveOn(day(now)) {
		return r.ApproverID, nil
	}
	return refuse("not the approver or their deputy")
}

// ProcessInput is a processor's result comment, or reason of a refusal.
type ProcessInput struct {
	Comment string `json:"comment"`
	Reason  string `json:"reason"`
}

// Process takes r into work, completes it, or declines it; only its
// processor may, and each step is a conditional write on its version.
func (s *Requests) Process(ctx context.Context, a Actor, id string, act Action, in ProcessInput) (View, error) {
	now := s.Clock.Now()
	if act != ActTake && act != ActComplete && act != ActDecline {
		// Cancelling is the employee's (Cancel), deciding the approver's.
		var p domain.Problems
		p.Add("action", "unknown_action", "action must be take, complete or decline")
		return View{}, p.Err()
	}
	text, err := decisionText(act != ActDecline, DecisionInput(in))
	if err != nil {
		return View{}, err
	}
	r, err := s.Store.Request(ctx, a.orgID(), id)
	if err != nil {
		return View{}, err
	}
	if !r.Can(act) || (r.State != ToProcess && r.State != InWork) {
		return View{}, stateConflict(r)
	}
	if !r.processedBy(a) {
		platform.Logger(ctx).Warn("request processing refused", "request", r.ID, "actor", a.Who(), "action", string(act))
		return View{}, domain.NewError(domain.CodeNotAssigned, "you are not the processor of this request")
	}
	prev := r.Version
	to := transitions[r.State][act]
	r.record(act, to, Step{By: a.Who(), ByName: a.Name, Comment: text}, now)
	kind, reason := notify.KindRequestInWork, ""
	switch act {
	case ActComplete:
		kind = notify.KindRequestCompleted
	case ActDecline:
		kind, reason = notify.KindRequestDeclined, text
	}
	// The employee's contact, with the organization's name, templates
	// and preferences unless the cache has them.
	l := Lookup{Contacts: []string{r.EmployeeID}}
	w, f, err := s.read(ctx, r.OrganizationID, l)
	if err != nil {
		return View{}, err
	}
	n := s.newNotes(r.OrganizationID)
	n.know(l, f)
	n.use(w)
	if err := n.toEmployee(ctx, &r, kind, reason); err != nil {
		return View{}, err
	}
	if err := s.save(ctx, r, prev, n.msgs); err != nil {
		return View{}, err
	}
	return ViewOf(r), nil
}

// processedBy: a is r's processor.
func (r Request) processedBy(a Actor) bool {
	if r.ProcessorIsResponsible {
		return a.Role == domain.RoleResponsiblePerson
	}
	return a.EmployeeID != "" && a.EmployeeID == r.ProcessorID
}

// Cancel withdraws the employee's own request before a decision.
func (s *Requests) Cancel(ctx context.Context, a Actor, id string) (View, error) {
	now := s.Clock.Now()
	r, err := s.Store.Request(ctx, a.orgID(), id)
	if err != nil {
		return View{}, err
	}
	if r.EmployeeID != a.EmployeeID || a.EmployeeID == "" {
		return View{}, domain.ErrNotFound
	}
	if !r.Can(ActCancel) {
		return View{}, stateConflict(r)
	}
	prev := r.Version
	r.record(ActCancel, Cancelled, Step{By: a.Who(), ByName: a.Name}, now)
	r.ApproverID, r.DueAt, r.ProcessorID, r.ProcessorIsResponsible = "", time.Time{}, "", false
	if err := s.save(ctx, r, prev, nil); err != nil {
		return View{}, err
	}
	return ViewOf(r), nil
}

// save writes r on its previous version and queues its messages.
func (s *deps) save(ctx context.Context, r Request, prev int64, msgs []notify.Message) error {
	if err := s.Store.SaveRequest(ctx, r, prev, msgs...); err != nil {
		if errors.Is(err, ErrStale) {
			return domain.NewError(domain.CodeRequestState, "the request changed meanwhile (decided by someone else?); reload it")
		}
		return err
	}
	notify.Dispatcher{Queue: s.Queue, Clock: s.Clock}.Dispatch(ctx, msgs...)
	return nil
}

// Detail is one request with its history, and for whoever decides it, the
// employee's other requests of the same period.
type Detail struct {
	View
	History []Step `json:"history"`
	// OtherRequests: the employee's other requests overlapping this one's
	// period (shown to approvers; among their latest 50).
	OtherRequests []View `json:"otherRequests,omitempty"`
}

// Get shows a request to its employee, its approver (or their deputy in
// office), its processor, or the responsible person; to anyone else it
// does not exist.
func (s *Requests) Get(ctx context.Context, a Actor, id string) (Detail, error) {
	now := s.Clock.Now()
	r, err := s.Store.Request(ctx, a.orgID(), id)
	if err != nil {
		return Detail{}, err
	}
	approver := r.State.Awaiting() && a.EmployeeID != r.EmployeeID &&
		(a.Role == domain.RoleResponsiblePerson || (a.EmployeeID != "" && a.EmployeeID == r.ApproverID))
	if !approver && r.State == PendingApproval && a.EmployeeID != "" && a.EmployeeID != r.EmployeeID {
		d, err := s.Store.Deputy(ctx, r.OrganizationID, r.ApproverID)
		if err != nil && !errors.Is(err, domain.ErrNotFound) {
			return Detail{}, err
		}
		approver = err == nil && d.DeputyID == a.EmployeeID && d.ActiveOn(day(now))
	}
	visible := approver || a.Role == domain.RoleResponsiblePerson || r.EmployeeID == a.EmployeeID || r.processedBy(a) ||
		(a.EmployeeID != "" && stepBy(r, a.EmployeeID))
	if !visible {
		return Detail{}, domain.ErrNotFound
	}
	out := Detail{View: ViewOf(r), History: r.History}
	if approver {
		others, err := s.Store.EmployeeRequests(ctx, r.OrganizationID, r.EmployeeID, "", 50)
		if err != nil {
			return Detail{}, err
		}
		for _, o := range others {
			if o.ID != r.ID && o.Period().Overlaps(r.Period()) {
				out.OtherRequests = append(out.OtherRequests, ViewOf(o))
			}
		}
	}
	return out, nil
}

// stepBy: id acted on r (an approver who decided it still sees it).
func stepBy(r Request, id string) bool {
	for _, h := range r.History {
		if h.By == id {
			return true
		}
	}
	return false
}

// Page is a page of requests.
type Page struct {
	Items      []View `json:"items"`
	NextCursor string `json:"nextCursor,omitempty"`
}

// Cursors are the last id of the page, base64url-encoded.
func encodeCursor(id string) string { return base64.RawURLEncoding.EncodeToString([]byte(id)) }

// DecodeCursor reads a cursor; ok false for anything not made by a page.
func DecodeCursor(c string) (string, bool) {
	if c == "" {
		return "", true
	}
	b, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil || len(b) == 0 || len(b) > 64 || !utf8.Valid(b) {
		return "", false
	}
	return string(b), true
}

func page(rs []Request, limit int) Page {
	out := Page{Items: make([]View, 0, len(rs))}
	for _, r := range rs {
		out.Items = append(out.Items, ViewOf(r))
	}
	if len(rs) == limit && limit > 0 {
		out.NextCursor = encodeCursor(rs[len(rs)-1].ID)
	}
	return out
}

// Mine lists the employee's own requests, newest first, those older than
// the request before (the decoded cursor; all when empty).
func (s *Requests) Mine(ctx context.Context, a Actor, limit int, before string) (Page, error) {
	rs, err := s.Store.EmployeeRequests(ctx, a.orgID(), a.EmployeeID, before, limit)
	if err != nil {
		return Page{}, err
	}
	return page(rs, limit), nil
}

// Approvals lists what waits for a's decision, oldest first: their own
// pending approvals and those of every manager whose deputy they are today
// (one level: a deputy's own deputy gets none of them); for the responsible
// person, the requests nobody can approve.
func (s *Requests) Approvals(ctx context.Context, a Actor, limit int, after string) (Page, error) {
	if a.Role == domain.RoleResponsiblePerson {
		rs, err := s.Store.InboxRequests(ctx, a.orgID(), Inbox{Kind: InboxNoApprover}, after, limit)
		if err != nil {
			return Page{}, err
		}
		return page(rs, limit), nil
	}
	inboxes := []Inbox{{InboxApprovals, a.EmployeeID}}
	ds, err := s.Store.DeputiesOf(ctx, a.orgID(), a.EmployeeID)
	if err != nil {
		return Page{}, err
	}
	d := day(s.Clock.Now())
	for _, dep := range ds {
		if dep.ActiveOn(d) {
			inboxes = append(inboxes, Inbox{InboxApprovals, dep.ManagerID})
		}
	}
	// Every inbox is in id order: merging pages read after the same id
	// gives the next page of the union. Each inbox contributes up to limit
	// requests, read on past the caller's own requests (nobody sees their
	// own request as theirs to approve): a page cut short by them would end
	// the listing early.
	var all []Request
	for _, in := range inboxes {
		for from, kept := after, 0; kept < limit; {
			rs, err := s.Store.InboxRequests(ctx, a.orgID(), in, from, limit)
			if err != nil {
				return Page{}, err
			}
			for _, r := range rs {
				if r.EmployeeID != a.EmployeeID {
					all = append(all, r)
					kept++
				}
			}
			if len(rs) < limit || len(rs) == 0 {
				break
			}
			from = rs[len(rs)-1].ID
		}
	}
	sortByID(all)
	if len(all) > limit {
		all = all[:limit]
	}
	return page(all, limit), nil
}

// Processing lists the requests a is to carry out, oldest first.
func (s *Requests) Processing(ctx context.Context, a Actor, limit int, after string) (Page, error) {
	owner := a.EmployeeID
	if a.Role == domain.RoleResponsiblePerson {
		owner = ""
	}
	rs, err := s.Store.InboxRequests(ctx, a.orgID(), Inbox{InboxProcessing, owner}, after, limit)
	if err != nil {
		return Page{}, err
	}
	return page(rs, limit), nil
}

func sortByID(rs []Request) {
	for i := 1; i < len(rs); i++ {
		for j := i; j > 0 && rs[j].ID < rs[j-1].ID; j-- {
			rs[j], rs[j-1] = rs[j-1], rs[j]
		}
	}
}

func (a Actor) orgID() string { return a.OrganizationID }

// View is a request as the API shows it.
type View struct {
	ID            string `json:"id"`
	Number        int64  `json:"number"`
	Type          Type   `json:"type"`
	Title         string `json:"title"`
	Fields        Fields `json:"fields"`
	EmployeeID    string `json:"employeeId"`
	EmployeeName  string `json:"employeeName"`
	State         State  `json:"state"`
	NeedsApproval bool   `json:"needsApproval"`
	ApproverID    string `json:"approverId,omitempty"`
	ProcessorID   string `json:"processorId,omitempty"`
	// ProcessedByResponsible: the responsible person carries it out.
	ProcessedByResponsible bool      `json:"processedByResponsiblePerson,omitempty"`
	CreatedAt              time.Time `json:"createdAt"`
	UpdatedAt              time.Time `json:"updatedAt"`
	Version                int64     `json:"version"`
}

// ViewOf shows r.
func ViewOf(r Request) View {
	return View{ID: r.ID, Number: r.Number, Type: r.Type, Title: r.Type.Title(), Fields: r.Fields,
		EmployeeID: r.EmployeeID, EmployeeName: r.EmployeeName, State: r.State, NeedsApproval: r.NeedsApproval,
		ApproverID: r.ApproverID, ProcessorID: r.ProcessorID, ProcessedByResponsible: r.ProcessorIsResponsible,
		CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt, Version: r.Version}
}

package cabinets

import (
	"cmp"
	"context"
	"errors"
	"sync"
	"time"

	"github.com/kabinet/kabinet/shared/domain"
	"github.com/kabinet/kabinet/shared/notify"
	"github.com/kabinet/kabinet/shared/publication"
)

// View is a cabinet as the administration and the employee see it.
type View struct {
	EmployeeID      string         `json:"employeeId"`
	FullName        string         `json:"fullName"`
	Position        string         `json:"position,omitempty"`
	State           State          `json:"state"`
	Reasons         []Reason       `json:"reasons"`
	Channel         domain.Channel `json:"channel,omitempty"`
	Delivery        Delivery       `json:"delivery,omitempty"`
	DeliveryDetail  string         `json:"deliveryDetail,omitempty"`
	FellBackFromSMS bool           `json:"fellBackFromSms,omitempty"`
	// PreferredChannel is how the employee wants notices.
	PreferredChannel domain.Channel `json:"preferredChannel"`
	InvitedAt        *time.Time     `json:"invitedAt,omitempty"`
	ExpiresAt        *time.Time     `json:"expiresAt,omitempty"`
	RemindedAt       *time.Time     `json:"remindedAt,omitempty"`
	ActivatedAt      *time.Time     `json:"activatedAt,omitempty"`
	UpdatedAt        time.Time      `json:"updatedAt"`
}

func optTime(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

// ViewOf shows c.
func ViewOf(c Cabinet) View {
	v := View{EmployeeID: c.EmployeeID, FullName: c.FullName, Position: c.Position, State: c.State, Reasons: c.Reasons,
		Channel: c.Channel, Delivery: c.Delivery, DeliveryDetail: c.DeliveryDetail, FellBackFromSMS: c.FellBackFromSMS,
		PreferredChannel: c.Preferred(),
		InvitedAt:        optTime(c.InvitedAt), ExpiresAt: optTime(c.ExpiresAt), RemindedAt: optTime(c.RemindedAt),
		ActivatedAt: optTime(c.ActivatedAt), UpdatedAt: c.UpdatedAt}
	if v.Reasons == nil {
		v.Reasons = []Reason{}
	}
	return v
}

// Page is one page of cabinets.
type Page struct {
	Items      []View `json:"items"`
	NextCursor string `json:"nextCursor,omitempty"`
}

// ListFilter narrows the administration list.
type ListFilter struct {
	State State  // empty: every state
	Name  string // a prefix of the full name (last name first), any case
}

// List pages through the organization's cabinets in name order.
func (s *Administration) List(ctx context.Context, orgID string, f ListFilter, limit int, cursor string) (Page, error) {
	items, next, err := s.Store.ListCabinets(ctx, orgID, f.State, SortName(f.Name), limit, cursor)
	if err != nil {
		return Page{}, err
	}
	out := Page{Items: make([]View, 0, len(items)), NextCursor: next}
	for _, c := range items {
		out.Items = append(out.Items, ViewOf(c))
	}
	return out, nil
}

// Counts are the number of cabinets in each state.
type Counts struct {
	Total   int           `json:"total"`
	ByState map[State]int `json:"byState"`
}

// Count counts the organization's cabinets per state, from the counts the
// store keeps with every write (one read, whatever the organization's size).
func (s *Administration) Count(ctx context.Context, orgID string) (Counts, error) {
	n, err := s.Store.CabinetCounts(ctx, orgID)
	if err != nil {
		return Counts{}, err
	}
	out := Counts{ByState: make(map[State]int, len(States))}
	for _, st := range States {
		out.ByState[st] = n[st]
		out.Total += n[st]
	}
	return out, nil
}

// BulkInput is the body of POST /v1/cabinets/actions.
type BulkInput struct {
	Action      string   `json:"action"`
	EmployeeIDs []string `json:"employeeIds"`
	// Channel of invite and resend: "sms" (default) or "email".
	Channel string `json:"channel"`
}

// MaxBulk is the most employees one bulk action names.
const MaxBulk = 1000

// ItemResult says what a bulk action did for one employee.
type ItemResult struct {
	EmployeeID string `json:"employeeId"`
	Done       bool   `json:"done"`
	State      State  `json:"state,omitempty"`
	Code       string `json:"code,omitempty"`
	Message    string `json:"message,omitempty"`
}

// BulkResult answers a bulk action per employee.
type BulkResult struct {
	Done   int          `json:"done"`
	Failed int          `json:"failed"`
	Items  []ItemResult `json:"items"`
}

type planned struct {
	idx  int
	prev int64
	next Cabinet
	old  Cabinet
	msg  *notify.Message
}

// Bulk applies an action to each named employee's cabinet and answers per
// employee. It reads the cabinets in batches, writes each changed one with
// a conditional write (a concurrent change loses cleanly, per employee),
// and only then queues the invitations of the cabinets it wrote.
func (s *Administration) Bulk(ctx context.Context, orgID string, in BulkInput) (BulkResult, error) {
	now := s.Clock.Now()
	var p domain.Problems
	switch in.Action {
	case ActionCreate, ActionInvite, ActionResend, ActionRevoke:
	default:
		p.Add("action", "unknown_action", `action must be "create", "invite", "resend" or "revoke"`)
	}
	channel := domain.ChannelSMS
	if in.Channel != "" {
		c, err := domain.ParseChannel(in.Channel)
		p.Check("channel", err)
		channel = c
	}
	if len(in.EmployeeIDs) == 0 || len(in.EmployeeIDs) > MaxBulk {
		p.Add("employeeIds", "count", "name 1 to 1000 employees")
	}
	seen := map[string]bool{}
	for _, id := range in.EmployeeIDs {
		// The employer system's ids (publication.ParseExternalID); an id of
		// any other form cannot name an employee.
		if _, err := publication.ParseExternalID(id); err != nil {
			p.Add("employeeIds", "id_format", "an employee id is 1 to 64 printable characters without spaces or '#'")
			break
		}
		if seen[id] {
			p.Add("employeeIds", "duplicate", "each employee may be named once: "+id)
			break
		}
		seen[id] = true
	}
	if err := p.Err(); err != nil {
		return BulkResult{}, err
	}
	info, err := newOrgCache(s.Store).get(ctx, orgID)
	if err != nil {
		return BulkResult{}, err
	}
	// Creating cabinets and sending invitations need a live service
	// period; revoking stays possible after it ended. Refused as a whole,
	// before anything is written.
	if in.Action != ActionRevoke {
		if err := domain.CheckService(info.org, now); err != nil {
			return BulkResult{}, err
		}
	}
	cabs, err := s.Store.Cabinets(ctx, orgID, in.EmployeeIDs)
	if err != nil {
		return BulkResult{}, err
	}
	// The employee records decide who may have a cabinet now; a cabinet's
	// own flag could lag behind a publication in progress.
	var eligible map[string]bool
	if in.Action != ActionRevoke {
		if eligible, err = s.Store.CanHaveCabinet(ctx, orgID, in.EmployeeIDs); err != nil {
			return BulkResult{}, err
		}
	}

	res := BulkResult{Items: make([]ItemResult, len(in.EmployeeIDs))}
	var plans []planned
	for i, id := range in.EmployeeIDs {
		c, ok := cabs[id]
		if !ok {
			res.Items[i] = ItemResult{EmployeeID: id, Code: string(domain.CodeNotFound), Message: "no published employee with this id"}
			continue
		}
		res.Items[i] = ItemResult{EmployeeID: id, State: c.State}
		if in.Action != ActionRevoke {
			c.Eligible = eligible[id]
		}
		pl := planned{idx: i, prev: c.Version, old: c, next: c}
		if reason := s.plan(&pl, in.Action, info, channel, now); reason != nil {
			res.Items[i].Code, res.Items[i].Message = string(reason.Code), reason.Detail
			continue
		}
		plans = append(plans, pl)
	}

	written, firstErr := s.save(ctx, plans, res.Items)
	var msgs []notify.Message
	for _, pl := range written {
		res.Items[pl.idx].Done, res.Items[pl.idx].State = true, pl.next.State
		if pl.msg != nil {
			msgs = append(msgs, *pl.msg)
		}
	}
	dispatchCtx := ctx
	if ctx.Err() != nil {
		// The request's time ran out while the last chunks were written:
		// their invitations still go now, within a second of the margin
		// the router keeps to answer, rather than after the outbox's grace.
		var cancel context.CancelFunc
		dispatchCtx, cancel = context.WithTimeout(context.WithoutCancel(ctx), time.Second)
		defer cancel()
	}
	notify.Dispatcher{Queue: s.Queue, Clock: s.Clock}.Dispatch(dispatchCtx, msgs...)
	// Nothing written for a failure of the database fails the request;
	// nothing written because the request's time ran out answers each
	// employee unavailable, as a partial answer would.
	if len(written) == 0 && firstErr != nil && ctx.Err() == nil {
		return BulkResult{}, firstErr
	}
	for _, it := range res.Items {
		if it.Done {
			res.Done++
		} else {
			res.Failed++
		}
	}
	return res, nil
}

// BulkChunk is how many cabinets one SaveCabinets call writes: ten
// invitations (a cabinet and its message each) and the update of the
// counts per state make one transaction of 21 actions. Up to 49 would fit
// DynamoDB's 100; fewer keep each transaction short, so that a request
// near its deadline has written all it started (the emulator copies the
// table for every action of a transaction: 49 a transaction wrote none of
// 1,000 invitations in 27 s there), for a tenth of the round trips of one
// write each.
const BulkChunk = 10

// BulkChunksInFlight bounds the chunks written at once.
const BulkChunksInFlight = 4

// BulkReserve is the time a bulk action keeps, before its deadline, to
// queue the messages and answer.
const BulkReserve = 3 * time.Second

// save writes the planned cabinets, each with its invitation staged in the
// same write, in chunks, while the request's time lasts: a chunk not
// started by then answers unavailable for each of its employees, and can
// be sent again. A lost race fails only its own employee. It returns the
// writes done and the first failure other than a lost race.
func (s *Administration) save(ctx context.Context, plans []planned, items []ItemResult) ([]planned, error) {
	var (
		mu       sync.Mutex
		written  []planned
		firstErr error
		wg       sync.WaitGroup
		sem      = make(chan struct{}, BulkChunksInFlight)
	)
	for start := 0; start < len(plans); start += BulkChunk {
		chunk := plans[start:min(start+BulkChunk, len(plans))]
		sem <- struct{}{}
		if !timeLeft(ctx, BulkReserve) {
			<-sem
			for _, pl := range chunk {
				items[pl.idx].Code, items[pl.idx].Message = string(domain.CodeUnavailable), "not reached in time; send it again"
			}
			continue
		}
		wg.Go(func() {
			defer func() { <-sem }()
			ws := make([]CabinetWrite, len(chunk))
			for i, pl := range chunk {
				ws[i] = CabinetWrite{Cabinet: pl.next, PrevVersion: pl.prev, PrevState: pl.old.State}
				if pl.msg != nil {
					ws[i].Msgs = []notify.Message{*pl.msg}
				}
			}
			errs := s.Store.SaveCabinets(ctx, ws)
			mu.Lock()
			defer mu.Unlock()
			for i, pl := range chunk {
				switch err := errs[i]; {
				case err == nil:
					pl.next.Version = pl.prev + 1
					written = append(written, pl)
				case errors.Is(err, ErrStale):
					items[pl.idx].Code, items[pl.idx].Message = string(domain.CodeConflict), "the cabinet changed meanwhile; try again"
				default:
					firstErr = cmp.Or(firstErr, err)
					items[pl.idx].Code, items[pl.idx].Message = string(domain.CodeUnavailable), "not written; try again"
				}
			}
		})
	}
	wg.Wait()
	return written, firstErr
}

// timeLeft reports whether ctx has more than reserve left before its
// deadline (always, without one) and is not done.
func timeLeft(ctx context.Context, reserve time.Duration) bool {
	if ctx.Err() != nil {
		return false
	}
	dl, ok := ctx.Deadline()
	return !ok || time.Until(dl) > reserve
}

// plan works out the action on one cabinet, or why it cannot be done.
func (s *Administration) plan(pl *planned, action string, info orgInfo, channel domain.Channel, now time.Time) *domain.Error {
	c := &pl.next
	if !can(action, c.State) || (action == ActionInvite || action == ActionResend || action == ActionCreate) && !c.Eligible {
		e := errTransition(c.State, actionPast[action])
		if !c.Eligible && c.State != Disabled {
			e = domain.NewError(domain.CodeCabinetState, "the employee cannot have a cabinet until the employer system fixes their data")
		}
		return e
	}
	c.UpdatedAt = now
	switch action {
	case ActionCreate:
		c.State, c.Reasons = Created, nil
		if info.st.AutoSendInvitations {
			c.DueAt = now
		}
	case ActionInvite, ActionResend:
		if channel == domain.ChannelEmail && c.Email == "" || channel == domain.ChannelSMS && c.Phone == "" {
			return domain.NewError(domain.CodeCabinetState, "the employee has no "+string(channel)+" destination")
		}
		msg, err := s.invite(c, info.org, info.st, info.prefs, channel, false, now)
		if err != nil {
			return domain.NewError(domain.CodeInternal, "could not make an invitation")
		}
		pl.msg = &msg
	case ActionRevoke:
		c.State, c.Delivery, c.DeliveryDetail, c.InvitationID = Created, "", "", ""
		dropInvitation(c)
	}
	return nil
}

var actionPast = map[string]string{ActionCreate: "created", ActionInvite: "invited", ActionResend: "re-invited", ActionRevoke: "revoked"}

// SettingsOf reads the organization's settings.
func (s *Administration) SettingsOf(ctx context.Context, orgID string) (Settings, error) {
	return s.Store.Settings(ctx, orgID)
}

// UpdateSettings changes the settings named in in.
func (s *Administration) UpdateSettings(ctx context.Context, orgID string, in SettingsInput) (Settings, error) {
	cur, err := s.Store.Settings(ctx, orgID)
	if err != nil {
		return Settings{}, err
	}
	next, err := in.apply(cur)
	if err != nil {
		return Settings{}, err
	}
	next.OrganizationID, next.UpdatedAt, next.Version = orgID, s.Clock.Now(), cur.Version+1
	if err := s.Store.SaveSettings(ctx, next, cur.Version); err != nil {
		if errors.Is(err, ErrStale) {
			return Settings{}, domain.NewError(domain.CodeConflict, "the settings changed meanwhile; read them and try again")
		}
		return Settings{}, err
	}
	return next, nil
}

package dynamostore

import (
	"context"
	"sort"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/kabinet/kabinet/shared/cabinets"
	"github.com/kabinet/kabinet/shared/domain"
	"github.com/kabinet/kabinet/shared/notify"
)

// Cabinets stores employees' cabinets and the organization's cabinet
// settings. A cabinet item ("CAB#<employee>") is indexed three ways:
// GSI4 by state and name ("ORG#<org>#CAB#<state>", "<name>#<employee>"),
// GSI5 by name across states ("ORG#<org>#CAB"), and, only while the
// scheduled job has work on it, GSI6 by due time across organizations
// ("DUE#<shard>", "<due ms>#<org>#<employee>"), so the job reads exactly
// what is due and never scans.
type Cabinets struct {
	t *table
}

var _ cabinets.Store = (*Cabinets)(nil)

// NewCabinets returns the cabinet store on the table.
func NewCabinets(db BatchAPI, table string) *Cabinets {
	return &Cabinets{t: newTable(db, table)}
}

type reasonItem struct {
	Code    string
	Message string
}

type cabinetItem struct {
	key
	Type            string
	OrganizationID  string
	EmployeeID      string
	FullName        string
	Position        string `dynamodbav:",omitempty"`
	GreetingName    string `dynamodbav:",omitempty"`
	Phone           string `dynamodbav:",omitempty"`
	Email           string `dynamodbav:",omitempty"`
	Eligible        bool
	Preferred       string `dynamodbav:",omitempty"`
	State           string
	Reasons         []reasonItem `dynamodbav:",omitempty"`
	PreviousState   string       `dynamodbav:",omitempty"`
	Channel         string       `dynamodbav:",omitempty"`
	Delivery        string       `dynamodbav:",omitempty"`
	DeliveryDetail  string       `dynamodbav:",omitempty"`
	FellBackFromSMS bool         `dynamodbav:",omitempty"`
	InvitationID    string       `dynamodbav:",omitempty"`
	TokenHash       string       `dynamodbav:",omitempty"`
	InvitedAt       int64        `dynamodbav:",omitempty"`
	ExpiresAt       int64        `dynamodbav:",omitempty"`
	RemindedAt      int64        `dynamodbav:",omitempty"`
	DueAt           int64        `dynamodbav:",omitempty"`
	PersonID        string       `dynamodbav:",omitempty"`
	ActivatedAt     int64        `dynamodbav:",omitempty"`
	Version         int64
	UpdatedAt       int64
	GSI4PK          string
	GSI4SK          string
	GSI5PK          string
	GSI5SK          string
	GSI6PK          string `dynamodbav:",omitempty"`
	GSI6SK          string `dynamodbav:",omitempty"`
}

func toCabinetItem(c cabinets.Cabinet, version int64) cabinetItem {
	it := cabinetItem{key: cabKey(c.OrganizationID, c.EmployeeID), Type: "Cabinet", OrganizationID: c.OrganizationID,
		EmployeeID: c.EmployeeID, FullName: c.FullName, Position: c.Position, GreetingName: c.GreetingName,
		Phone: string(c.Phone), Email: string(c.Email), Eligible: c.Eligible, Preferred: string(c.PreferredChannel), State: string(c.State),
		PreviousState: string(c.PreviousState), Channel: string(c.Channel), Delivery: string(c.Delivery),
		DeliveryDetail: c.DeliveryDetail, FellBackFromSMS: c.FellBackFromSMS, InvitationID: c.InvitationID,
		TokenHash: c.TokenHash, InvitedAt: ms(c.InvitedAt), ExpiresAt: ms(c.ExpiresAt), RemindedAt: ms(c.RemindedAt),
		DueAt: ms(c.DueAt), PersonID: c.PersonID, ActivatedAt: ms(c.ActivatedAt), Version: version, UpdatedAt: ms(c.UpdatedAt)}
	for _, r := range c.Reasons {
		it.Reasons = append(it.Reasons, reasonItem(r))
	}
	sortKey := cabinets.SortName(c.FullName) + "#" + c.EmployeeID
	it.GSI4PK, it.GSI4SK = cabStatePK(c.OrganizationID, c.State), sortKey
	it.GSI5PK, it.GSI5SK = cabNamePK(c.OrganizationID), sortKey
	if !c.DueAt.IsZero() {
		it.GSI6PK, it.GSI6SK = cabDuePK(c.OrganizationID, c.EmployeeID), dueSK(ms(c.DueAt), c.OrganizationID, c.EmployeeID)
	}
	return it
}

func fromCabinetItem(it cabinetItem) cabinets.Cabinet {
	c := cabinets.Cabinet{OrganizationID: it.OrganizationID, EmployeeID: it.EmployeeID, FullName: it.FullName,
		Position: it.Position, GreetingName: it.GreetingName, Phone: domain.Phone(it.Phone), Email: domain.Email(it.Email),
		Eligible: it.Eligible, PreferredChannel: domain.Channel(it.Preferred), State: cabinets.State(it.State), PreviousState: cabinets.State(it.PreviousState),
		Channel: domain.Channel(it.Channel), Delivery: cabinets.Delivery(it.Delivery), DeliveryDetail: it.DeliveryDetail,
		FellBackFromSMS: it.FellBackFromSMS, InvitationID: it.InvitationID, TokenHash: it.TokenHash,
		InvitedAt: fromMS(it.InvitedAt), ExpiresAt: fromMS(it.ExpiresAt), RemindedAt: fromMS(it.RemindedAt),
		DueAt: fromMS(it.DueAt), PersonID: it.PersonID, ActivatedAt: fromMS(it.ActivatedAt), Version: it.Version,
		UpdatedAt: fromMS(it.UpdatedAt)}
	for _, r := range it.Reasons {
		c.Reasons = append(c.Reasons, cabinets.Reason(r))
	}
	return c
}

type settingsItem struct {
	key
	Type                   string
	AutoCreateCabinets     bool
	AutoSendInvitations    bool
	AskLoginAtActivation   bool
	InvitationLifetimeDays int
	ReminderAfterDays      int
	InvitationSMS          string
	InvitationEmailSubject string
	InvitationEmailBody    string
	Version                int64
	UpdatedAt              int64
}

// Settings reads the organization's cabinet settings, or the defaults.
func (s *Cabinets) Settings(ctx context.Context, orgID string) (cabinets.Settings, error) {
	var it settingsItem
	found, err := s.t.getOr(ctx, settingsKey(orgID), &it)
	if err != nil {
		return cabinets.Settings{}, err
	}
	if !found {
		return cabinets.DefaultSettings(orgID), nil
	}
	return cabinets.Settings{OrganizationID: orgID, AutoCreateCabinets: it.AutoCreateCabinets,
		AutoSendInvitations: it.AutoSendInvitations, AskLoginAtActivation: it.AskLoginAtActivation,
		InvitationLifetimeDays: it.InvitationLifetimeDays, ReminderAfterDays: it.ReminderAfterDays,
		Texts: cabinets.Texts{InvitationSMS: it.InvitationSMS, InvitationEmailSubject: it.InvitationEmailSubject,
			InvitationEmailBody: it.InvitationEmailBody}, Version: it.Version, UpdatedAt: fromMS(it.UpdatedAt)}, nil
}

// SaveSettings stores st if the stored version is still prevVersion.
func (s *Cabinets) SaveSettings(ctx context.Context, st cabinets.Settings, prevVersion int64) error {
	it := settingsItem{key: settingsKey(st.OrganizationID), Type: "CabinetSettings", AutoCreateCabinets: st.AutoCreateCabinets,
		AutoSendInvitations: st.AutoSendInvitations, AskLoginAtActivation: st.AskLoginAtActivation,
		InvitationLifetimeDays: st.InvitationLifetimeDays, ReminderAfterDays: st.ReminderAfterDays,
		InvitationSMS: st.Texts.InvitationSMS, InvitationEmailSubject: st.Texts.InvitationEmailSubject,
		InvitationEmailBody: st.Texts.InvitationEmailBody, Version: prevVersion + 1, UpdatedAt: ms(st.UpdatedAt)}
	return s.t.putItem(ctx, "save settings", it, versionIs(prevVersion))
}

// Cabinet reads one cabinet.
func (s *Cabinets) Cabinet(ctx context.Context, orgID, employeeID string) (cabinets.Cabinet, error) {
	var it cabinetItem
	if err := s.t.get(ctx, cabKey(orgID, employeeID), &it); err != nil {
		return cabinets.Cabinet{}, err
	}
	return fromCabinetItem(it), nil
}

// Cabinets reads the named cabinets, 100 keys a request.
func (s *Cabinets) Cabinets(ctx context.Context, orgID string, ids []string) (map[string]cabinets.Cabinet, error) {
	its, err := batchGetAll(ctx, s.t, keysOf(orgID, ids, cabKey), nil, func(it cabinetItem) string { return it.EmployeeID })
	out := make(map[string]cabinets.Cabinet, len(its))
	for id, it := range its {
		out[id] = fromCabinetItem(it)
	}
	return out, err
}

// CanHaveCabinet reads the published and eligible flags of employees.
func (s *Cabinets) CanHaveCabinet(ctx context.Context, orgID string, ids []string) (map[string]bool, error) {
	states, err := (&Publication{t: s.t}).EmployeeStates(ctx, orgID, ids)
	if err != nil {
		return nil, err
	}
	out := make(map[string]bool, len(states))
	for id, st := range states {
		out[id] = st.Published && st.Eligible
	}
	return out, nil
}

// SaveCabinet writes c if the stored version is still prevVersion, with
// msgs staged in the same transaction.
func (s *Cabinets) SaveCabinet(ctx context.Context, c cabinets.Cabinet, prevVersion int64, msgs ...notify.Message) error {
	return saveWithMessages(ctx, s.t, "save cabinet", toCabinetItem(c, prevVersion+1), versionIs(prevVersion), msgs, c.UpdatedAt)
}

// SaveCabinets writes each cabinet as SaveCabinet does. The writes that
// stage messages (invitations) share transactions, up to DynamoDB's 100
// actions each, so that a bulk action of a thousand invitations costs a
// few dozen round trips instead of a thousand; the others are conditional
// puts, in parallel, at half a transaction's cost.
func (s *Cabinets) SaveCabinets(ctx context.Context, ws []cabinets.CabinetWrite) []error {
	writes := make([]conditionalWrite, len(ws))
	for i, w := range ws {
		writes[i] = conditionalWrite{item: toCabinetItem(w.Cabinet, w.PrevVersion+1), cond: versionIs(w.PrevVersion),
			msgs: w.Msgs, now: w.Cabinet.UpdatedAt}
	}
	return saveAllWithMessages(ctx, s.t, "save cabinets", writes)
}

// PutNewCabinets writes first records, 25 a request, retrying what is left
// unprocessed with backoff until deadline; it returns what is still unwritten.
func (s *Cabinets) PutNewCabinets(ctx context.Context, cs []cabinets.Cabinet, deadline time.Time) ([]string, error) {
	items := make([]map[string]types.AttributeValue, len(cs))
	for i, c := range cs {
		av, err := attributevalue.MarshalMap(toCabinetItem(c, 1))
		if err != nil {
			return nil, err
		}
		items[i] = av
	}
	unwritten, err := s.t.batchPut(ctx, items, deadline)
	if err != nil {
		return nil, err
	}
	var failed []string
	for _, i := range unwritten {
		failed = append(failed, cs[i].EmployeeID)
	}
	return failed, nil
}

// ListCabinets pages through cabinets in name order, of one state or all.
func (s *Cabinets) ListCabinets(ctx context.Context, orgID string, st cabinets.State, namePrefix string, limit int, cur string) ([]cabinets.Cabinet, string, error) {
	q := query{op: "list cabinets", index: "GSI5", pk: cabNamePK(orgID), maxReads: 1}
	if st != "" {
		q.index, q.pk = "GSI4", cabStatePK(orgID, st)
	}
	if namePrefix != "" {
		q.sk = beginsWith(namePrefix)
	}
	its, next, err := list[cabinetItem](ctx, s.t, q, orgPK(orgID), limit, cur, func(c cursor) bool {
		return len(c.SK) > len("CAB#") && strings.HasPrefix(c.SK, "CAB#") && strings.HasPrefix(c.IdxSK, namePrefix)
	})
	return mapAll(its, fromCabinetItem), next, err
}

// CountCabinets counts one state's cabinets (a COUNT query on its index
// partition: no items travel back).
func (s *Cabinets) CountCabinets(ctx context.Context, orgID string, st cabinets.State) (int, error) {
	return s.t.count(ctx, query{op: "count cabinets", index: "GSI4", pk: cabStatePK(orgID, st)})
}

// DueCabinets reads up to limit cabinets due by now from every shard of
// GSI6, earliest first.
func (s *Cabinets) DueCabinets(ctx context.Context, now time.Time, limit int) ([]cabinets.Cabinet, error) {
	its, err := due[cabinetItem](ctx, s.t, "GSI6", "DUE#", dueShards, now, limit)
	if err != nil {
		return nil, err
	}
	out := mapAll(its, fromCabinetItem)
	sort.Slice(out, func(i, j int) bool { return out[i].DueAt.Before(out[j].DueAt) })
	return out, nil
}

// SetPersonDisabled disables or re-enables a person's sign-in.
func (s *Cabinets) SetPersonDisabled(ctx context.Context, orgID, personID string, disabled bool) error {
	_, err := s.t.updateItem(ctx, "disable person", personKey(orgID, personID),
		expression.Set(expression.Name("Disabled"), expression.Value(disabled)), exists(), "")
	if isStale(err) {
		return nil // no such person: nobody to disable
	}
	return err
}

// Organization reads one organization.
func (s *Cabinets) Organization(ctx context.Context, orgID string) (domain.Organization, error) {
	return (&Store{t: s.t}).Organization(ctx, orgID)
}

// NotificationPreferences reads the organization's notification settings.
func (s *Cabinets) NotificationPreferences(ctx context.Context, orgID string) (notify.Preferences, error) {
	return preferences(ctx, s.t, orgID)
}

// Activate writes an activation in one transaction.
func (s *Cabinets) Activate(ctx context.Context, a cabinets.Activation) error {
	cab, err := s.t.put(toCabinetItem(a.Cabinet, a.PrevVersion+1), versionIs(a.PrevVersion))
	if err != nil {
		return err
	}
	codeUpd, err := s.t.update(codeKey(a.Code.OrganizationID, a.Code.Purpose, a.Code.Slot),
		expression.Set(expression.Name("UsedAt"), expression.Value(ms(a.Cabinet.ActivatedAt))),
		cond(expression.Name("Hash").Equal(expression.Value(a.Code.Hash)).And(expression.AttributeNotExists(expression.Name("UsedAt")))))
	if err != nil {
		return err
	}
	person, err := s.t.put(toPersonItem(a.Person), notExists())
	if err != nil {
		return err
	}
	items := []types.TransactWriteItem{cab, codeUpd, person}
	// Phone and e-mail may be shared with another account of the
	// organization (the responsible person may be an employee too), so
	// their entries are per person; an own login is unique per organization.
	for _, login := range []string{a.Person.Phone.Login(), a.Person.Email.Login()} {
		l := loginFor(a.Person.OrganizationID, a.Person.ID, login)
		l.SK += "#" + a.Person.ID
		p, err := s.t.put(l, notExists())
		if err != nil {
			return err
		}
		items = append(items, p)
	}
	loginAt := -1
	if a.Person.Login != "" {
		p, err := s.t.put(loginFor(a.Person.OrganizationID, a.Person.ID, a.Person.Login.Key()), notExists())
		if err != nil {
			return err
		}
		loginAt = len(items)
		items = append(items, p)
	}
	err = s.t.transact(ctx, "activate cabinet", "", items...)
	if failedAt(err, loginAt) {
		// The login is taken, unless something else failed too: then the
		// activation lost a race, and the login may be free after all.
		for i := range items {
			if i != loginAt && failedAt(err, i) {
				return err
			}
		}
		return cabinets.ErrLoginTaken
	}
	return err
}

package dynamostore

import (
	"cmp"
	"context"
	"hash/fnv"
	"maps"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
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

// cabCond: the cabinet is absent (prevVersion 0) or still at prevVersion
// in prevState. The state is checked too, although a version has one
// state, so that a caller's wrong prevState fails as stale instead of
// moving the wrong count.
func cabCond(prevVersion int64, prevState cabinets.State) *expression.ConditionBuilder {
	if prevVersion == 0 {
		return notExists()
	}
	return cond(expression.Name("Version").Equal(expression.Value(prevVersion)).
		And(expression.Name("State").Equal(expression.Value(string(prevState)))))
}

// SaveCabinet writes c if the stored version and state are still
// prevVersion and prevState, with msgs staged in the same transaction. A
// write that changes the state moves the counts in that transaction too
// (a cabinet put and a counter update: two actions, 2 WCU each, where a
// write without messages was one conditional put of 1 WCU); a write that
// keeps the state stays a single conditional put.
func (s *Cabinets) SaveCabinet(ctx context.Context, c cabinets.Cabinet, prevVersion int64, prevState cabinets.State, msgs ...notify.Message) error {
	item, cnd := toCabinetItem(c, prevVersion+1), cabCond(prevVersion, prevState)
	d := countDelta{}
	d.move(fromState(prevVersion, prevState), c.State)
	upd, moved, err := s.countUpdate(c.OrganizationID, countShard(c.OrganizationID, c.EmployeeID), d)
	if err != nil || !moved {
		return cmp.Or(err, saveWithMessages(ctx, s.t, "save cabinet", item, cnd, msgs, c.UpdatedAt))
	}
	p, err := s.t.put(item, cnd)
	if err != nil {
		return err
	}
	staged, err := stagePuts(s.t, msgs, c.UpdatedAt)
	if err != nil {
		return err
	}
	return s.t.transact(ctx, "save cabinet", "", append(append([]types.TransactWriteItem{p}, staged...), upd)...)
}

// SaveCabinets writes each cabinet as SaveCabinet does. The writes that
// stage messages (invitations) or move a count share transactions, up to
// DynamoDB's 100 actions each, one of which updates the counts for all the
// transaction's writes (their moves summed, on one counter item): a bulk
// action of a thousand invitations costs a few dozen round trips instead
// of a thousand. The others (the state unchanged, no message) are
// conditional puts, in parallel, at half a transaction's cost.
func (s *Cabinets) SaveCabinets(ctx context.Context, ws []cabinets.CabinetWrite) []error {
	errs := make([]error, len(ws))
	byOrg := map[string][]int{}
	var orgs []string
	for i, w := range ws {
		org := w.Cabinet.OrganizationID
		if byOrg[org] == nil {
			orgs = append(orgs, org)
		}
		byOrg[org] = append(byOrg[org], i)
	}
	// A counter item belongs to one organization: each organization's
	// writes go in their own transactions (a bulk action has one).
	for _, org := range orgs {
		idx := byOrg[org]
		writes := make([]conditionalWrite, len(idx))
		for j, i := range idx {
			w := ws[i]
			writes[j] = conditionalWrite{item: toCabinetItem(w.Cabinet, w.PrevVersion+1), cond: cabCond(w.PrevVersion, w.PrevState),
				msgs: w.Msgs, now: w.Cabinet.UpdatedAt, shared: fromState(w.PrevVersion, w.PrevState) != w.Cabinet.State}
		}
		extra := func(group []int) (types.TransactWriteItem, bool, error) {
			d := countDelta{}
			for _, j := range group {
				w := ws[idx[j]]
				d.move(fromState(w.PrevVersion, w.PrevState), w.Cabinet.State)
			}
			return s.countUpdate(org, countShard(org, ws[idx[group[0]]].Cabinet.EmployeeID), d)
		}
		for j, err := range saveAllWithMessages(ctx, s.t, "save cabinets", writes, extra) {
			errs[idx[j]] = err
		}
	}
	return errs
}

// PutNewCabinets writes first records, 25 a BatchWriteItem, retrying what
// is left unprocessed with backoff until deadline, and then adds what the
// records written count to the counts, in one counter update per
// organization. Before, it reads which of them are stored already (one
// BatchGetItem per 100 keys): a retried publication whose first attempt
// wrote some leaves those as they are and does not count them twice; they
// are reported as existed. Nothing else creates a cabinet while a
// publication holds its organization's lock, so nothing comes between the
// read and the write.
//
// Why not conditional transactions, which would make each record and its
// count one write: moto deep-copies the whole table for every action of a
// TransactWriteItems, so first records of a 10,000-employee publication in
// transactions take hours on the emulator the suite runs on (and twice the
// write units on DynamoDB). What this leaves: if the function dies between
// the batches and the counter update, the records written are not counted;
// deleting the organization's base item ("CABCOUNT") recounts it (see
// CabinetCounts).
func (s *Cabinets) PutNewCabinets(ctx context.Context, cs []cabinets.Cabinet, deadline time.Time) (existed, unwritten []string, err error) {
	keys := make([]key, len(cs))
	for i, c := range cs {
		keys[i] = cabKey(c.OrganizationID, c.EmployeeID)
	}
	stored := map[string]bool{}
	var mu sync.Mutex
	err = s.t.batchGet(ctx, keys, []string{"PK", "SK"}, func(items []map[string]types.AttributeValue) error {
		mu.Lock()
		defer mu.Unlock()
		for _, it := range items {
			stored[itemKey(it)] = true
		}
		return nil
	})
	if err != nil {
		return nil, nil, err
	}
	var fresh []cabinets.Cabinet
	var items []map[string]types.AttributeValue
	for i, c := range cs {
		if stored[itemKey(keys[i].av())] {
			existed = append(existed, c.EmployeeID)
			continue
		}
		av, err := attributevalue.MarshalMap(toCabinetItem(c, 1))
		if err != nil {
			return nil, nil, err
		}
		fresh, items = append(fresh, c), append(items, av)
	}
	left, err := s.t.batchPut(ctx, items, deadline)
	if err != nil {
		return nil, nil, err
	}
	notWritten := map[int]bool{}
	for _, i := range left {
		notWritten[i] = true
		unwritten = append(unwritten, fresh[i].EmployeeID)
	}
	deltas := map[string]countDelta{}
	var orgs []string
	for i, c := range fresh {
		if notWritten[i] {
			continue
		}
		if deltas[c.OrganizationID] == nil {
			deltas[c.OrganizationID] = countDelta{}
			orgs = append(orgs, c.OrganizationID)
		}
		deltas[c.OrganizationID].move("", c.State)
	}
	for _, org := range orgs {
		// The first record's counter item; the next call of the
		// publication most likely starts with another employee.
		if err := s.addCounts(ctx, org, countShard(org, fresh[0].EmployeeID), deltas[org]); err != nil {
			return nil, nil, err
		}
	}
	return existed, unwritten, nil
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

// The counts per state. Every write that changes a cabinet's state (or
// creates one) adds its move, in its own transaction, to one of
// countShards counter items of the organization ("CABCOUNT#<shard>"): a
// single write to its cabinet's shard, a shared transaction to the shard
// of its first cabinet (one counter action whatever it holds), first
// records right after their batches (see PutNewCabinets), so that
// concurrent transactions rarely meet on one item and a bulk action is
// never serialized behind one. A shard holds moves, not a part of the
// cabinets: its figures may be negative; only the sum means something.
// The base item ("CABCOUNT") holds what was there before counting began
// (an organization with cabinets from before the counts existed); its
// absence is what starts the one-off backfill (CabinetCounts). Reading is
// one strongly consistent Query of the base and the shards, about 3 KB:
// one read unit, whatever the organization's size.

// countShards is how many counter items an organization's counts use.
const countShards = 16

// countShard is the counter item of one cabinet's single writes.
func countShard(orgID, employeeID string) int {
	h := fnv.New32a()
	h.Write([]byte(orgID + "/" + employeeID))
	return int(h.Sum32() % countShards)
}

// countDelta is how many cabinets a write adds to (or takes from) each state.
type countDelta map[cabinets.State]int

// move counts a cabinet leaving from ("" : it is new) for to.
func (d countDelta) move(from, to cabinets.State) {
	if from == to {
		return
	}
	if from != "" {
		d[from]--
	}
	d[to]++
}

// fromState is the state a write leaves: none for a new cabinet.
func fromState(prevVersion int64, prevState cabinets.State) cabinets.State {
	if prevVersion == 0 {
		return ""
	}
	return prevState
}

// countExpr is the update that adds d to a counter item; moved false
// when d moves nothing. Writes counts the updates, so that the backfill
// can tell that no write came between two reads.
func countExpr(d countDelta) (upd expression.UpdateBuilder, moved bool) {
	upd = expression.Set(expression.Name("Type"), expression.Value("CabinetCounts")).
		Add(expression.Name("Writes"), expression.Value(1))
	for _, st := range cabinets.States {
		if n := d[st]; n != 0 {
			upd, moved = upd.Add(expression.Name(string(st)), expression.Value(n)), true
		}
	}
	return upd, moved
}

// countUpdate is the transaction action that adds d to the organization's
// counter item shard; ok false when d moves nothing.
func (s *Cabinets) countUpdate(orgID string, shard int, d countDelta) (types.TransactWriteItem, bool, error) {
	upd, moved := countExpr(d)
	if !moved {
		return types.TransactWriteItem{}, false, nil
	}
	act, err := s.t.update(cabCountShardKey(orgID, shard), upd, nil)
	return act, err == nil, err
}

// addCounts adds d to the organization's counter item shard, on its own.
func (s *Cabinets) addCounts(ctx context.Context, orgID string, shard int, d countDelta) error {
	upd, moved := countExpr(d)
	if !moved {
		return nil
	}
	_, err := s.t.updateItem(ctx, "count new cabinets", cabCountShardKey(orgID, shard), upd, nil, "")
	return err
}

// storedCounts is what one read of the counter items found.
type storedCounts struct {
	based  bool                   // the base item is there: counting has begun
	sum    map[cabinets.State]int // the base and every shard, summed
	moves  map[cabinets.State]int // the shards alone
	writes map[string]int64       // each shard's Writes, by sort key
}

// readCounts reads the base and the shards in one strongly consistent Query.
func (s *Cabinets) readCounts(ctx context.Context, orgID string) (storedCounts, error) {
	out := storedCounts{sum: map[cabinets.State]int{}, moves: map[cabinets.State]int{}, writes: map[string]int64{}}
	for _, st := range cabinets.States {
		out.sum[st], out.moves[st] = 0, 0
	}
	q := query{op: "read cabinet counts", pk: orgPK(orgID), sk: beginsWith(cabCountKey(orgID).SK), consistent: true}
	_, err := s.t.run(ctx, q, nil, 0, func(res *dynamodb.QueryOutput) error {
		for _, item := range res.Items {
			var it map[string]any
			if err := attributevalue.UnmarshalMap(item, &it); err != nil {
				return err
			}
			sk, _ := it["SK"].(string)
			base := sk == cabCountKey(orgID).SK
			out.based = out.based || base
			if !base {
				w, _ := it["Writes"].(float64)
				out.writes[sk] = int64(w)
			}
			for _, st := range cabinets.States {
				n, _ := it[string(st)].(float64)
				out.sum[st] += int(n)
				if !base {
					out.moves[st] += int(n)
				}
			}
		}
		return nil
	})
	return out, err
}

// CabinetCounts reads the counts per state: one Query of the counter
// items. An organization whose counting has not begun (no base item: its
// cabinets are older than the counts, or it has none yet) is counted once
// from its cabinets (a strongly consistent Query of the cabinet items'
// states: the one-off cost of reading them all), and the base stored is
// that recount less the moves the shards hold already. The recount is
// exact only if no write moved a count while it ran: the shards are read
// before and after, and a base is stored only if their write counters
// did not move (a write after the second read is in the shards and not in
// the recount, so base plus shards stays exact); the base is put only if
// absent, so of two backfills at once one stands. If writes keep moving
// the counts, the latest recount answers and the next call tries again.
func (s *Cabinets) CabinetCounts(ctx context.Context, orgID string) (map[cabinets.State]int, error) {
	var recount map[cabinets.State]int
	for range 3 {
		before, err := s.readCounts(ctx, orgID)
		if err != nil || before.based {
			return before.sum, err
		}
		if recount, err = s.recount(ctx, orgID); err != nil {
			return nil, err
		}
		after, err := s.readCounts(ctx, orgID)
		if err != nil || after.based {
			return after.sum, err
		}
		if !maps.Equal(before.writes, after.writes) {
			continue // a write came between: the recount may or may not hold it
		}
		k := cabCountKey(orgID)
		base := map[string]any{"PK": k.PK, "SK": k.SK, "Type": "CabinetCountsBase"}
		for st, n := range recount {
			base[string(st)] = n - before.moves[st]
		}
		err = s.t.putItem(ctx, "start cabinet counts", base, notExists())
		if err == nil {
			return recount, nil
		}
		if !isStale(err) {
			return nil, err
		}
		// Another backfill stored its base first: read that.
	}
	return recount, nil
}

// recount counts the organization's cabinets per state from the cabinet
// items themselves (strongly consistent, unlike an index).
func (s *Cabinets) recount(ctx context.Context, orgID string) (map[cabinets.State]int, error) {
	out := make(map[cabinets.State]int, len(cabinets.States))
	for _, st := range cabinets.States {
		out[st] = 0
	}
	q := query{op: "recount cabinets", pk: orgPK(orgID), sk: beginsWith("CAB#"), consistent: true, projection: []string{"State"}}
	_, err := s.t.run(ctx, q, nil, 0, func(res *dynamodb.QueryOutput) error {
		its, err := decodeAll[struct{ State string }](res.Items)
		for _, it := range its {
			out[cabinets.State(it.State)]++
		}
		return err
	})
	return out, err
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
	cab, err := s.t.put(toCabinetItem(a.Cabinet, a.PrevVersion+1), cabCond(a.PrevVersion, a.PrevState))
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
	d := countDelta{}
	d.move(fromState(a.PrevVersion, a.PrevState), a.Cabinet.State)
	org := a.Cabinet.OrganizationID
	upd, moved, err := s.countUpdate(org, countShard(org, a.Cabinet.EmployeeID), d)
	if err != nil {
		return err
	}
	if moved {
		items = append(items, upd) // last, so the indexes above stand
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

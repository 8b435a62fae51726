package dynamostore

import (
	"fmt"
	"hash/fnv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/kabinet/kabinet/shared/cabinets"
	"github.com/kabinet/kabinet/shared/notify"
	"github.com/kabinet/kabinet/shared/requests"
)

// This file is the catalogue of the table's keys: every item's primary key
// and every index entry, as the functions that build them and as the table
// (Catalogue) that documents them. KeyTable renders the catalogue as the
// Markdown table in docs/table.md, and TestKeyTable fails when the two differ
// (go test ./shared/dynamostore -run TestKeyTable -update rewrites it), so
// the documented keys cannot drift from the code. An item or index added
// to the code is added here, next to its key function.

// key is the primary key of an item.
type key struct {
	PK string `dynamodbav:"PK"`
	SK string `dynamodbav:"SK"`
}

func (k key) av() map[string]types.AttributeValue {
	return map[string]types.AttributeValue{
		"PK": &types.AttributeValueMemberS{Value: k.PK},
		"SK": &types.AttributeValueMemberS{Value: k.SK},
	}
}

// Entry is one kind of item in the catalogue.
type Entry struct {
	Item    string
	PK, SK  string
	Indexes []IndexEntry
}

// IndexEntry is an item's entry in a global secondary index.
type IndexEntry struct {
	Index  string // "GSI1" … "GSI12"
	PK, SK string
	// When says when an item is in the index, for sparse indexes.
	When string
}

// Catalogue is every kind of item the table holds, in the order of docs/table.md.
var Catalogue = []Entry{
	{Item: "organization", PK: "ORG#<org>", SK: "ORG",
		Indexes: []IndexEntry{
			{Index: "GSI5", PK: "ORGS", SK: "<org>", When: "connected, or its period stored (the operator's registry)"},
			{Index: "GSI6", PK: "USAGESTATS", SK: "<org>", When: "while it allows usage statistics"}}},
	{Item: "usage statistics of one day (counts only; TTL two years)", PK: "ORG#<org>", SK: "USAGE#<YYYY-MM-DD>"},
	{Item: "person", PK: "ORG#<org>", SK: "PERSON#<person>"},
	{Item: "login, the responsible person's (phone, e-mail)", PK: "ORG#<org>", SK: "LOGIN#PHONE#+7…, LOGIN#EMAIL#…",
		Indexes: []IndexEntry{{Index: "GSI1", PK: "LOGIN#PHONE#+7…, LOGIN#EMAIL#…", SK: "ORG#<org>#PERSON#<person>"}}},
	{Item: "login, an employee's phone and e-mail", PK: "ORG#<org>", SK: "LOGIN#PHONE#…#<person>, LOGIN#EMAIL#…#<person>",
		Indexes: []IndexEntry{{Index: "GSI1", PK: "LOGIN#PHONE#+7…, LOGIN#EMAIL#…", SK: "ORG#<org>#PERSON#<person>"}}},
	{Item: "login, an employee's own", PK: "ORG#<org>", SK: "LOGIN#USER#<login>",
		Indexes: []IndexEntry{{Index: "GSI1", PK: "LOGIN#USER#<login>", SK: "ORG#<org>#PERSON#<person>"}}},
	{Item: "one-time code", PK: "ORG#<org>", SK: "CODE#<purpose>#<slot>"},
	{Item: "refresh token (kept, used, until it expires)", PK: "ORG#<org>", SK: "REFRESH#<sha256>"},
	{Item: "refresh token family, revoked", PK: "ORG#<org>", SK: "REFRESHFAMILY#<family>"},
	{Item: "session (a sign-in: one refresh token family, while live)", PK: "ORG#<org>", SK: "SESSION#<person>#<family>"},
	{Item: "API key", PK: "ORG#<org>", SK: "APIKEY#<key>"},
	{Item: "notification record, also the ledger", PK: "ORG#<org>", SK: "NOTIF#<id>",
		Indexes: []IndexEntry{
			{Index: "GSI7", PK: "OUTBOX#<0-3>", SK: "<due ms>#<org>#<id>", When: "while staged"},
			{Index: "GSI8", PK: "ORG#<org>#NOTIF", SK: "<created ms>#<id>"}}},
	{Item: "department", PK: "ORG#<org>", SK: "DEPT#<external id>"},
	{Item: "employee", PK: "ORG#<org>", SK: "EMP#<external id>",
		Indexes: []IndexEntry{
			{Index: "GSI2", PK: "ORG#<org>#EMP", SK: "<department>#<id>", When: "while published"},
			{Index: "GSI3", PK: "ORG#<org>#ELIGIBLE, ORG#<org>#NOCABINET", SK: "<id>", When: "while published"}}},
	{Item: "director", PK: "ORG#<org>", SK: "DIRECTOR"},
	{Item: "cabinet", PK: "ORG#<org>", SK: "CAB#<external id>",
		Indexes: []IndexEntry{
			{Index: "GSI4", PK: "ORG#<org>#CAB#<state>", SK: "<name>#<id>"},
			{Index: "GSI5", PK: "ORG#<org>#CAB", SK: "<name>#<id>"},
			{Index: "GSI6", PK: "DUE#<0-3>", SK: "<due ms>#<org>#<id>", When: "while due"}}},
	{Item: "cabinet counts per state, the base (before counting began)", PK: "ORG#<org>", SK: "CABCOUNT"},
	{Item: "cabinet counts per state, the moves of one counter shard", PK: "ORG#<org>", SK: "CABCOUNT#<00-15>"},
	{Item: "cabinet settings", PK: "ORG#<org>", SK: "SETTINGS#CABINETS"},
	{Item: "notification settings", PK: "ORG#<org>", SK: "SETTINGS#NOTIFICATIONS"},
	{Item: "КЭДО settings (HR e-document exchange, employee signatures)", PK: "ORG#<org>", SK: "SETTINGS#EDO"},
	{Item: "notification template override", PK: "ORG#<org>", SK: "TEMPLATE#<kind>"},
	{Item: "request", PK: "ORG#<org>", SK: "REQ#<id>",
		Indexes: []IndexEntry{
			{Index: "GSI9", PK: "ORG#<org>#REQBY#<employee>", SK: "<id>"},
			{Index: "GSI10", PK: "ORG#<org>#APPROVE#<approver>, ORG#<org>#NOAPPROVER, ORG#<org>#PROCESS#<processor>, ORG#<org>#PROCESS",
				SK: "<id>", When: "while in an inbox"},
			{Index: "GSI11", PK: "ORG#<org>#AWAITING", SK: "<department>#<id>", When: "while awaiting a decision"},
			{Index: "GSI12", PK: "REQDUE#<0-3>", SK: "<due ms>#<org>#<id>", When: "while due"}}},
	{Item: "request number counter", PK: "ORG#<org>", SK: "COUNTER#REQUESTS"},
	{Item: "deputy", PK: "ORG#<org>", SK: "DEPUTY#<manager>",
		Indexes: []IndexEntry{{Index: "GSI9", PK: "ORG#<org>#DEPUTYOF#<deputy>", SK: "<manager>"}}},
	{Item: "request settings", PK: "ORG#<org>", SK: "SETTINGS#REQUESTS"},
	{Item: "snapshot", PK: "ORG#<org>", SK: "SNAP#<id>"},
	{Item: "snapshot chunk (what it named)", PK: "ORG#<org>", SK: "SNAP#<id>#CHUNK#<chunk>"},
	{Item: "publication lock", PK: "ORG#<org>", SK: "PUBLOCK"},
	{Item: "re-routing a publication owes pending approvals", PK: "ORG#<org>", SK: "REROUTE"},
	{Item: "the organization's awaiting requests all keyed by department in GSI11 (migration done)", PK: "ORG#<org>", SK: "MIGRATED#GSI11SK"},
	{Item: "idempotency key (hashed) and stored response", PK: "ORG#<org>", SK: "IDEM#<sha256>"},
	{Item: "rate-limit window (deployment-wide, no tenant)", PK: "RATE#<scope>:<key>", SK: "<window start in Unix s>"},
	{Item: "employee signature: certificate and sealed key", PK: "ORG#<org>", SK: "SIG#<employee>"},
	{Item: "signing attempts (wrong-password counter, lock)", PK: "ORG#<org>", SK: "SIGATTEMPTS#<employee>"},
	{Item: "signature event (audit)", PK: "ORG#<org>", SK: "SIGEVENT#<employee>#<ulid>"},
	{Item: "signature CA certificate (deployment-wide, no tenant)", PK: "PKI", SK: "CA"},
	{Item: "revoked certificate, for the CRL (deployment-wide, no tenant)", PK: "PKI", SK: "REVOKED#<serial hex>"},
}

// KeyTable renders the catalogue as a Markdown table: one row per item,
// its indexes in the last column.
func KeyTable() string {
	var b strings.Builder
	b.WriteString("| item | PK | SK | indexes |\n|---|---|---|---|\n")
	code := func(s string) string {
		parts := strings.Split(s, ", ")
		for i, p := range parts {
			parts[i] = "`" + p + "`"
		}
		return strings.Join(parts, ", ")
	}
	for _, e := range Catalogue {
		var idx []string
		for _, x := range e.Indexes {
			s := x.Index + " " + code(x.PK) + " / " + code(x.SK)
			if x.When != "" {
				s += " (" + x.When + ")"
			}
			idx = append(idx, s)
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %s |\n", e.Item, code(e.PK), code(e.SK), strings.Join(idx, "; "))
	}
	return b.String()
}

// The tenant's partition and the items under it.

func orgPK(orgID string) string { return "ORG#" + orgID }

func orgKey(orgID string) key { return key{orgPK(orgID), "ORG"} }

// registryPK is the one GSI5 partition of every organization (written
// once per connection: no hot partition), statsPK the GSI6 partition of
// those that allow usage statistics.
const (
	registryPK = "ORGS"
	statsPK    = "USAGESTATS"
)

func usageKey(orgID, day string) key { return key{orgPK(orgID), usagePrefix + day} }

const usagePrefix = "USAGE#"

func personKey(orgID, personID string) key { return key{orgPK(orgID), "PERSON#" + personID} }
func codeKey(orgID, purpose, slot string) key {
	return key{orgPK(orgID), "CODE#" + purpose + "#" + slot}
}
func refreshKey(orgID, hash string) key { return key{orgPK(orgID), "REFRESH#" + hash} }
func refreshFamilyKey(orgID, familyID string) key {
	return key{orgPK(orgID), "REFRESHFAMILY#" + familyID}
}
func apiKeyKey(orgID, keyID string) key { return key{orgPK(orgID), "APIKEY#" + keyID} }

// sessionKey is a person's session; sessionsPrefix begins the sort keys of
// all of one person's, which a query lists.
func sessionKey(orgID, personID, familyID string) key {
	return key{orgPK(orgID), sessionsPrefix(personID) + familyID}
}
func sessionsPrefix(personID string) string { return "SESSION#" + personID + "#" }

// loginKey is a sign-in entry: login is "PHONE#…", "EMAIL#…" or
// "USER#<login>"; GSI1 finds it by login before the tenant is known.
func loginKey(orgID, login string) key { return key{orgPK(orgID), "LOGIN#" + login} }
func loginGSI1(orgID, personID, login string) (pk, sk string) {
	return "LOGIN#" + login, orgPK(orgID) + "#PERSON#" + personID
}

func notificationKey(m notify.Message) key { return key{orgPK(m.OrganizationID), "NOTIF#" + m.ID} }
func notificationsPK(orgID string) string  { return orgPK(orgID) + "#NOTIF" } // GSI8
func notificationSK(m notify.Message) string {
	return fmt.Sprintf("%013d#%s", ms(m.CreatedAt), m.ID)
}

// outboxShards spreads staged messages over a few GSI7 partitions.
const outboxShards = 4

func outboxPK(m notify.Message) string { // GSI7
	return shard("OUTBOX#", m.OrganizationID+"/"+m.ID, outboxShards)
}

// dueSK is the sort key of the due-time indexes (GSI6, GSI7, GSI12):
// the due time in 13-digit milliseconds first, so that "due by now" is one
// key condition.
func dueSK(dueMS int64, orgID, id string) string { return fmt.Sprintf("%013d#%s#%s", dueMS, orgID, id) }

// shard is prefix plus a stable hash of id modulo n: one busy organization
// cannot make one hot index partition; the readers read every shard.
func shard(prefix, id string, n uint32) string {
	h := fnv.New32a()
	h.Write([]byte(id))
	return fmt.Sprintf("%s%d", prefix, h.Sum32()%n)
}

func deptKey(orgID, id string) key { return key{orgPK(orgID), "DEPT#" + id} }
func empKey(orgID, id string) key  { return key{orgPK(orgID), "EMP#" + id} }
func directorKey(orgID string) key { return key{orgPK(orgID), "DIRECTOR"} }

func employeesPK(orgID string) string { return orgPK(orgID) + "#EMP" } // GSI2
func cabinetPK(orgID string, eligible bool) string { // GSI3
	if eligible {
		return orgPK(orgID) + "#ELIGIBLE"
	}
	return orgPK(orgID) + "#NOCABINET"
}

// dueShards spreads due cabinets over a few GSI6 partitions.
const dueShards = 4

func cabKey(orgID, employeeID string) key { return key{orgPK(orgID), "CAB#" + employeeID} }
func cabStatePK(orgID string, st cabinets.State) string { // GSI4
	return orgPK(orgID) + "#CAB#" + string(st)
}
func cabNamePK(orgID string) string { return orgPK(orgID) + "#CAB" } // GSI5
func cabDuePK(orgID, employeeID string) string { // GSI6
	return shard("DUE#", orgID+"/"+employeeID, dueShards)
}

// cabCountKey is the base of the counts per state (what was there before
// counting began); cabCountShardKey one of the counter items of the moves.
func cabCountKey(orgID string) key { return key{orgPK(orgID), "CABCOUNT"} }
func cabCountShardKey(orgID string, shard int) key {
	return key{orgPK(orgID), fmt.Sprintf("CABCOUNT#%02d", shard)}
}

func settingsKey(orgID string) key        { return key{orgPK(orgID), "SETTINGS#CABINETS"} }
func preferencesKey(orgID string) key     { return key{orgPK(orgID), "SETTINGS#NOTIFICATIONS"} }
func requestSettingsKey(orgID string) key { return key{orgPK(orgID), "SETTINGS#REQUESTS"} }
func edoSettingsKey(orgID string) key     { return key{orgPK(orgID), "SETTINGS#EDO"} }
func templateKey(orgID, kind string) key  { return key{orgPK(orgID), "TEMPLATE#" + kind} }

// requestDueShards spreads due requests over a few GSI12 partitions.
const requestDueShards = 4

func requestKey(orgID, id string) key              { return key{orgPK(orgID), "REQ#" + id} }
func requestCounterKey(orgID string) key           { return key{orgPK(orgID), "COUNTER#REQUESTS"} }
func requestsByPK(orgID, employeeID string) string { return orgPK(orgID) + "#REQBY#" + employeeID } // GSI9
func awaitingPK(orgID string) string               { return orgPK(orgID) + "#AWAITING" }            // GSI11

// awaitingSK orders GSI11 by department, then id: one department's
// requests are one key range ("<department>#"). Requests written before
// GSI11 was keyed by department carry "<id>" alone; awaitingSKOf is what
// both SaveRequest and their migration (requests_migrate.go) write, so the
// two cannot disagree.
func awaitingSK(p requests.AwaitingPlace) string { return p.DepartmentID + "#" + p.ID }
func awaitingSKOf(r requests.Request) string     { return awaitingSK(requests.AwaitingPlaceOf(r)) }
func requestDuePK(id string) string              { return shard("REQDUE#", id, requestDueShards) } // GSI12

// awaitingKeysKey marks an organization whose requests awaiting a decision
// all carry the GSI11 key by department (see Requests.keysCurrent).
func awaitingKeysKey(orgID string) key { return key{orgPK(orgID), "MIGRATED#GSI11SK"} }

// inboxPK is the GSI10 partition of an inbox.
func inboxPK(orgID string, in requests.Inbox) (string, error) {
	switch in.Kind {
	case requests.InboxApprovals:
		return orgPK(orgID) + "#APPROVE#" + in.Owner, nil
	case requests.InboxNoApprover:
		return orgPK(orgID) + "#NOAPPROVER", nil
	case requests.InboxProcessing:
		// The responsible person's inbox has no owner segment: any marker
		// put there could also be an employee's id ("~responsible" is a
		// valid external id), and would show them the responsible
		// person's work.
		if in.Owner == "" {
			return orgPK(orgID) + "#PROCESS", nil
		}
		return orgPK(orgID) + "#PROCESS#" + in.Owner, nil
	}
	return "", fmt.Errorf("unknown inbox kind %q", in.Kind)
}

func deputyKey(orgID, managerID string) key      { return key{orgPK(orgID), "DEPUTY#" + managerID} }
func deputiesOfPK(orgID, deputyID string) string { return orgPK(orgID) + "#DEPUTYOF#" + deputyID } // GSI9

func snapKey(orgID, id string) key { return key{orgPK(orgID), "SNAP#" + id} }
func chunkKey(orgID, snapshotID, chunkID string) key {
	return key{orgPK(orgID), chunkPrefix(snapshotID) + chunkID}
}
func chunkPrefix(snapshotID string) string { return "SNAP#" + snapshotID + "#CHUNK#" }
func lockKey(orgID string) key             { return key{orgPK(orgID), "PUBLOCK"} }
func rerouteKey(orgID string) key          { return key{orgPK(orgID), "REROUTE"} }
func idemKey(orgID, k string) key          { return key{orgPK(orgID), "IDEM#" + k} }

// rateKey is a rate-limit window: deployment-wide, under no tenant.
func rateKey(k, windowStart string) key { return key{"RATE#" + k, windowStart} }

// The employees' signatures under the tenant, and the deployment's PKI
// (CA certificate, revocations) under no tenant: the CRL is the
// deployment's, read whole.
func signatureKey(orgID, employeeID string) key { return key{orgPK(orgID), "SIG#" + employeeID} }
func attemptsKey(orgID, employeeID string) key  { return key{orgPK(orgID), "SIGATTEMPTS#" + employeeID} }
func sigEventPrefix(employeeID string) string   { return "SIGEVENT#" + employeeID + "#" }
func sigEventKey(orgID, employeeID, id string) key {
	return key{orgPK(orgID), sigEventPrefix(employeeID) + id}
}

const (
	pkiPK            = "PKI"
	revocationPrefix = "REVOKED#"
)

func caKey() key                      { return key{pkiPK, "CA"} }
func revocationKey(serial string) key { return key{pkiPK, revocationPrefix + serial} }

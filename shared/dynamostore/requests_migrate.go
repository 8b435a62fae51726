package dynamostore

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/kabinet/kabinet/shared/awserr"
	"github.com/kabinet/kabinet/shared/platform"
	"github.com/kabinet/kabinet/shared/requests"
)

// The migration of GSI11's sort key. Requests awaiting a decision were
// indexed "ORG#<org>#AWAITING" / "<id>" until re-routing by department
// keyed them "<department>#<id>" (awaitingSK). An item written before keeps
// "<id>": a department's range (AwaitingIn) never finds it, and a full
// re-routing pages past it from the wrong place. Two ways rewrite them,
// with the same per-item step (rewriteAwaitingKey):
//   - AwaitingKeys.Migrate, the one-time run over the whole table
//     (`make migrate`, infra/migrate), paged, paced and resumable;
//   - Requests.keysCurrent, the safety net: the first re-routing of an
//     organization (targeted or full) on an instance rewrites what is left
//     of that organization's, then marks it (awaitingKeysKey), so that it
//     is done once per organization and costs one GetItem per organization
//     and warm instance after that.

// awaitingKeyItem is what the rewrite reads of a request in GSI11.
type awaitingKeyItem struct {
	key
	ID             string
	OrganizationID string
	DepartmentID   string
	Version        int64
	GSI11PK        string
	GSI11SK        string
}

var awaitingKeyAttrs = []string{"PK", "SK", "ID", "OrganizationID", "DepartmentID", "Version", "GSI11PK", "GSI11SK"}

// wantSK is the GSI11 sort key SaveRequest would write for the item now.
func (it awaitingKeyItem) wantSK() string {
	return awaitingSKOf(requests.Request{ID: it.ID, DepartmentID: it.DepartmentID})
}

// awaitingKeyAttempts bounds the rewrites of one item that its own writer
// keeps changing while still writing the old key (a function not yet on
// this version, during a deployment).
const awaitingKeyAttempts = 3

// rewriteOutcome is what became of one item.
type rewriteOutcome int

const (
	keyCurrent   rewriteOutcome = iota // already keyed by department
	keyRewritten                       // rewritten by this run
	keyChanged                         // decided or re-saved meanwhile: its writer set the key
	keyLeft                            // still old after awaitingKeyAttempts
)

// rewriteAwaitingKey rewrites the GSI11 sort key to wantSK if it still
// has another one. The update is conditional on the version and the key
// read, so a decision (which removes the request from GSI11) or any other
// step saved meanwhile wins, and a decided request is never put back in
// the index: the update sets only GSI11SK, and only while GSI11SK is the
// old value. When the condition fails the item is read again, strongly
// consistent, and rewritten again only if it still has a key of before.
func (t *table) rewriteAwaitingKey(ctx context.Context, it awaitingKeyItem, pace func(context.Context) error) (rewriteOutcome, error) {
	if it.GSI11SK == it.wantSK() {
		return keyCurrent, nil
	}
	for attempt := 0; attempt < awaitingKeyAttempts; attempt++ {
		if err := pace(ctx); err != nil {
			return keyLeft, err
		}
		c := expression.Name("GSI11SK").Equal(expression.Value(it.GSI11SK)).
			And(expression.Name("Version").Equal(expression.Value(it.Version)))
		_, err := t.updateItem(ctx, "rewrite GSI11 key", it.key,
			expression.Set(expression.Name("GSI11SK"), expression.Value(it.wantSK())), &c, "")
		if err == nil {
			return keyRewritten, nil
		}
		if !isStale(err) {
			return keyLeft, err
		}
		var now awaitingKeyItem
		found, err := t.getOr(ctx, it.key, &now)
		if err != nil {
			return keyLeft, err
		}
		if !found || now.GSI11PK == "" || now.GSI11SK == now.wantSK() {
			return keyChanged, nil
		}
		it = now
	}
	return keyLeft, nil
}

// AwaitingKeysReport counts what a migration of GSI11's keys did.
type AwaitingKeysReport struct {
	Scanned   int `json:"scanned"`   // requests read from GSI11
	Rewritten int `json:"rewritten"` // keyed "<id>", now "<department>#<id>"
	// Skipped is Current plus Changed.
	Skipped int `json:"skipped"`
	Current int `json:"current"` // keyed by department already
	Changed int `json:"changed"` // decided or saved again while the run went on
	// Left are still keyed "<id>" after awaitingKeyAttempts: saved again
	// and again by a function of before. Run again once deployed.
	Left int `json:"left"`
	// Again are requests this run rewrote and met again further on: a new
	// key can sort after the scan's position. They are not counted above.
	Again int `json:"again"`
}

func (r *AwaitingKeysReport) add(o rewriteOutcome) {
	switch o {
	case keyCurrent:
		r.Current++
		r.Skipped++
	case keyRewritten:
		r.Rewritten++
	case keyChanged:
		r.Changed++
		r.Skipped++
	case keyLeft:
		r.Left++
	}
}

// ScanAPI is the client the table-wide migration needs: the single-item
// calls and Scan.
type ScanAPI interface {
	API
	Scan(ctx context.Context, in *dynamodb.ScanInput, optFns ...func(*dynamodb.Options)) (*dynamodb.ScanOutput, error)
}

// AwaitingKeys migrates GSI11's sort keys across the whole table.
type AwaitingKeys struct {
	t    *table
	scan ScanAPI
}

// NewAwaitingKeys returns the migration on the table.
func NewAwaitingKeys(db ScanAPI, table string) *AwaitingKeys {
	return &AwaitingKeys{t: newTable(db, table), scan: db}
}

// AwaitingKeysRun says how a migration runs.
type AwaitingKeysRun struct {
	// PageSize is the items a Scan page reads (default 100).
	PageSize int32
	// Rate bounds the DynamoDB requests a second (each Scan page, each
	// rewrite and its re-read count one); 0 leaves them unbounded.
	Rate float64
	// From resumes after the page a previous run reported last ("": from
	// the start).
	From string
	// Page, when set, is told the counts so far and the token to resume
	// after each page ("" after the last).
	Page func(rep AwaitingKeysReport, resume string)
}

// Migrate scans GSI11 (only requests awaiting a decision are in it) and
// rewrites every key of before. It is idempotent: a second run finds every
// key current and writes nothing, and a run stopped anywhere is resumed
// with the token of its last page, or simply started again.
func (m *AwaitingKeys) Migrate(ctx context.Context, run AwaitingKeysRun) (AwaitingKeysReport, error) {
	var rep AwaitingKeysReport
	start, err := decodeResume(run.From)
	if err != nil {
		return rep, err
	}
	if run.PageSize <= 0 {
		run.PageSize = 100
	}
	pace := pacer(run.Rate)
	proj := expression.NamesList(expression.Name(awaitingKeyAttrs[0]))
	for _, n := range awaitingKeyAttrs[1:] {
		proj = proj.AddNames(expression.Name(n))
	}
	expr, err := expression.NewBuilder().WithProjection(proj).Build()
	if err != nil {
		return rep, err
	}
	in := &dynamodb.ScanInput{TableName: &m.t.name, IndexName: aws.String("GSI11"), Limit: aws.Int32(run.PageSize),
		ProjectionExpression: expr.Projection(), ExpressionAttributeNames: expr.Names()}
	// rewritten holds the keys this run rewrote, to tell them when the
	// scan meets them again at their new place.
	rewritten := map[key]bool{}
	for {
		if err := pace(ctx); err != nil {
			return rep, err
		}
		in.ExclusiveStartKey = start
		res, err := m.scan.Scan(ctx, in)
		if err != nil {
			return rep, awserr.Wrap("scan GSI11", err)
		}
		its, err := decodeAll[awaitingKeyItem](res.Items)
		if err != nil {
			return rep, err
		}
		for _, it := range its {
			if rewritten[it.key] {
				rep.Again++
				continue
			}
			rep.Scanned++
			o, err := m.t.rewriteAwaitingKey(ctx, it, pace)
			if err != nil {
				// The page is not done: resuming repeats it, which the
				// condition makes harmless.
				return rep, err
			}
			if o == keyRewritten {
				rewritten[it.key] = true
			}
			rep.add(o)
		}
		start = res.LastEvaluatedKey
		resume := ""
		if len(start) > 0 {
			resume = encodeResume(start)
		}
		if run.Page != nil {
			run.Page(rep, resume)
		}
		if resume == "" {
			return rep, nil
		}
	}
}

// pacer spaces calls at least 1/rate s apart (none when rate ≤ 0): a
// migration of a large table must not take the capacity the functions
// need.
func pacer(rate float64) func(context.Context) error {
	if rate <= 0 {
		return func(context.Context) error { return nil }
	}
	every := time.Duration(float64(time.Second) / rate)
	var next time.Time
	return func(ctx context.Context) error {
		now := time.Now()
		if wait := next.Sub(now); wait > 0 {
			t := time.NewTimer(wait)
			defer t.Stop()
			select {
			case <-t.C:
			case <-ctx.Done():
				return ctx.Err()
			}
			now = next
		}
		next = now.Add(every)
		return nil
	}
}

// The resume token is the Scan's last evaluated key (GSI11's and the
// table's keys, all strings), base64url JSON.
func encodeResume(k map[string]types.AttributeValue) string {
	m := make(map[string]string, len(k))
	for n, v := range k {
		if s, ok := v.(*types.AttributeValueMemberS); ok {
			m[n] = s.Value
		}
	}
	raw, _ := json.Marshal(m)
	return base64.RawURLEncoding.EncodeToString(raw)
}

func decodeResume(tok string) (map[string]types.AttributeValue, error) {
	if tok == "" {
		return nil, nil
	}
	var m map[string]string
	raw, err := base64.RawURLEncoding.DecodeString(tok)
	if err == nil {
		err = json.Unmarshal(raw, &m)
	}
	for _, n := range []string{"PK", "SK", "GSI11PK", "GSI11SK"} {
		if err == nil && m[n] == "" {
			err = fmt.Errorf("no %s", n)
		}
	}
	if err != nil || len(m) != 4 {
		return nil, fmt.Errorf("the resume token is not one a run of this migration printed: %v", err)
	}
	k := make(map[string]types.AttributeValue, len(m))
	for n, v := range m {
		k[n] = &types.AttributeValueMemberS{Value: v}
	}
	return k, nil
}

type awaitingKeysMarker struct {
	key
	Type string
	At   int64
}

// keysCurrent makes sure no request of the organization awaiting a decision
// is keyed as before in GSI11, so that its re-routing finds every one: the
// safety net for an organization the migration has not reached (or a
// request written by a function of before during the deployment). Once
// per organization it reads the organization's GSI11 partition, rewrites
// the old keys and writes a marker; after that it reads the marker once per
// warm instance. An organization with a key it could not rewrite is not
// marked: its next re-routing tries again.
func (s *Requests) keysCurrent(ctx context.Context, orgID string) error {
	if _, ok := s.keyed.Load(orgID); ok {
		return nil
	}
	var m awaitingKeysMarker
	found, err := s.t.getOr(ctx, awaitingKeysKey(orgID), &m)
	if err != nil {
		return err
	}
	if !found {
		its, err := all[awaitingKeyItem](ctx, s.t, query{op: "query GSI11 keys", index: "GSI11", pk: awaitingPK(orgID),
			projection: awaitingKeyAttrs}, 0)
		if err != nil {
			return err
		}
		var rep AwaitingKeysReport
		none := func(context.Context) error { return nil }
		for _, it := range its {
			o, err := s.t.rewriteAwaitingKey(ctx, it, none)
			if err != nil {
				return err
			}
			rep.add(o)
		}
		if rep.Left > 0 {
			return nil
		}
		if rep.Rewritten > 0 {
			platform.Logger(ctx).Info("requests awaiting a decision re-keyed in GSI11 by department",
				"organization", orgID, "rewritten", rep.Rewritten, "scanned", len(its))
		}
		if err := s.t.putItem(ctx, "mark GSI11 keys current", awaitingKeysMarker{key: awaitingKeysKey(orgID),
			Type: "AwaitingKeysMarker", At: ms(time.Now())}, nil); err != nil {
			return err
		}
	}
	s.keyed.Store(orgID, struct{}{})
	return nil
}

// Package dynamostore is the DynamoDB adapter: one table, every item keyed
// under its tenant (PK "ORG#<id>"), except the deployment-wide rate-limit
// counters (PK "RATE#…"), which belong to no tenant.
//
// It is a table core and one repository per port. The core (this file,
// keys.go for the keys and indexes, codec.go, query.go) does what every
// repository needs: single-item reads and writes, transactions, the one
// paged query with its cursor, the batch reader and writer, the one
// mapping of a failed condition to domain.ErrStale, and the one retry of a
// transaction cancelled by conflicts (transact).
// Each repository (Store for onboarding, Cabinets, Requests, Notices,
// Outbox, Ledger, Limiter, Idempotency, Publication) holds a core and no
// other state, save Requests' per-instance set of organizations whose
// GSI11 keys are known migrated (requests_migrate.go); none embeds another,
// so each carries only its port's
// methods. A repository that reads another's items (requests read
// employees and cabinets) calls that repository on the same core.
package dynamostore

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/kabinet/kabinet/shared/awserr"
	"github.com/kabinet/kabinet/shared/domain"
)

// API is the part of the DynamoDB client the single-item repositories use.
type API interface {
	GetItem(ctx context.Context, in *dynamodb.GetItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error)
	PutItem(ctx context.Context, in *dynamodb.PutItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error)
	UpdateItem(ctx context.Context, in *dynamodb.UpdateItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error)
	DeleteItem(ctx context.Context, in *dynamodb.DeleteItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.DeleteItemOutput, error)
	Query(ctx context.Context, in *dynamodb.QueryInput, optFns ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error)
	TransactWriteItems(ctx context.Context, in *dynamodb.TransactWriteItemsInput, optFns ...func(*dynamodb.Options)) (*dynamodb.TransactWriteItemsOutput, error)
}

// BatchAPI is what the repositories that read or write in bulk need beyond
// the single-item calls.
type BatchAPI interface {
	API
	BatchGetItem(ctx context.Context, in *dynamodb.BatchGetItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.BatchGetItemOutput, error)
	BatchWriteItem(ctx context.Context, in *dynamodb.BatchWriteItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.BatchWriteItemOutput, error)
}

// table is the core every repository holds: the client, the table name,
// and how bulk work runs.
type table struct {
	db API
	// batch is db when the client can batch (nil for the repositories
	// built by New on a plain API, which never batch).
	batch BatchAPI
	name  string
	// concurrency is how many requests of one bulk operation run at once.
	concurrency int
	// backoff is the base of the jittered exponential backoff on
	// unprocessed items and throttling.
	backoff time.Duration
}

func newTable(db API, name string) *table {
	t := &table{db: db, name: name, concurrency: 8, backoff: 50 * time.Millisecond}
	t.batch, _ = db.(BatchAPI)
	return t
}

// stale is the one mapping of a write's failure: a failed condition, or a
// transaction cancelled because a condition of one of its actions failed,
// is domain.ErrStale (a transaction's carries the reason of each action, see
// failedAt); anything else, a transaction cancelled by conflicts or
// throttling included, is the adapter failure named op (answered 503 when
// awserr finds it transient, 500 otherwise).
func stale(op string, err error) error {
	if err == nil {
		return nil
	}
	var ccf *types.ConditionalCheckFailedException
	if errors.As(err, &ccf) {
		return domain.ErrStale
	}
	if reasons, ok := awserr.CancellationReasons(err); ok && conditionFailed(reasons) {
		return &cancelled{reasons: reasons}
	}
	return awserr.Wrap(op, err)
}

// conditionFailed reports whether a cancelled transaction's reasons name a
// failed condition. A cancellation without reasons (DynamoDB always gives
// them) is taken as one too, as it always was: a lost race.
func conditionFailed(reasons []string) bool {
	if len(reasons) == 0 {
		return true
	}
	for _, r := range reasons {
		if r == awserr.ReasonConditionFailed {
			return true
		}
	}
	return false
}

// cancelled is domain.ErrStale from a transaction, with the reason code of
// each action ("None", "ConditionalCheckFailed", …), so that a repository
// can tell which condition failed.
type cancelled struct{ reasons []string }

func (c *cancelled) Error() string        { return domain.ErrStale.Error() }
func (c *cancelled) Is(target error) bool { return target == domain.ErrStale }

// failedAt reports whether err is a cancelled transaction whose action i
// failed its condition.
func failedAt(err error, i int) bool {
	var c *cancelled
	return errors.As(err, &c) && i >= 0 && i < len(c.reasons) && c.reasons[i] == awserr.ReasonConditionFailed
}

// isStale reports whether err is the stale error.
func isStale(err error) bool { return errors.Is(err, domain.ErrStale) }

// get reads one item into out; domain.ErrNotFound when absent.
func (t *table) get(ctx context.Context, k key, out any) error {
	res, err := t.db.GetItem(ctx, &dynamodb.GetItemInput{TableName: &t.name, Key: k.av(), ConsistentRead: aws.Bool(true)})
	if err != nil {
		return awserr.Wrap(fmt.Sprintf("get %s/%s", k.PK, k.SK), err)
	}
	if res.Item == nil {
		return domain.ErrNotFound
	}
	return attributevalue.UnmarshalMap(res.Item, out)
}

// getOr reads one item into out; found false when absent.
func (t *table) getOr(ctx context.Context, k key, out any) (bool, error) {
	err := t.get(ctx, k, out)
	if errors.Is(err, domain.ErrNotFound) {
		return false, nil
	}
	return err == nil, err
}

// put builds a Put with an optional condition, for a transaction.
func (t *table) put(item any, cond *expression.ConditionBuilder) (types.TransactWriteItem, error) {
	av, err := attributevalue.MarshalMap(item)
	if err != nil {
		return types.TransactWriteItem{}, err
	}
	p := &types.Put{TableName: &t.name, Item: av}
	if cond != nil {
		expr, err := expression.NewBuilder().WithCondition(*cond).Build()
		if err != nil {
			return types.TransactWriteItem{}, err
		}
		p.ConditionExpression, p.ExpressionAttributeNames, p.ExpressionAttributeValues = expr.Condition(), expr.Names(), expr.Values()
	}
	return types.TransactWriteItem{Put: p}, nil
}

// putItem writes item with an optional condition; domain.ErrStale when the
// condition fails.
func (t *table) putItem(ctx context.Context, op string, item any, cond *expression.ConditionBuilder) error {
	w, err := t.put(item, cond)
	if err != nil {
		return err
	}
	p := w.Put
	_, err = t.db.PutItem(ctx, &dynamodb.PutItemInput{TableName: p.TableName, Item: p.Item,
		ConditionExpression: p.ConditionExpression, ExpressionAttributeNames: p.ExpressionAttributeNames,
		ExpressionAttributeValues: p.ExpressionAttributeValues})
	return stale(op, err)
}

// update builds an update of one item, for a transaction.
func (t *table) update(k key, upd expression.UpdateBuilder, cond *expression.ConditionBuilder) (types.TransactWriteItem, error) {
	b := expression.NewBuilder().WithUpdate(upd)
	if cond != nil {
		b = b.WithCondition(*cond)
	}
	expr, err := b.Build()
	if err != nil {
		return types.TransactWriteItem{}, err
	}
	return types.TransactWriteItem{Update: &types.Update{TableName: &t.name, Key: k.av(),
		UpdateExpression: expr.Update(), ConditionExpression: expr.Condition(),
		ExpressionAttributeNames: expr.Names(), ExpressionAttributeValues: expr.Values()}}, nil
}

// updateItem updates one item with an optional condition and returns the
// attributes ret asks for ("" for none); domain.ErrStale when the condition
// fails.
func (t *table) updateItem(ctx context.Context, op string, k key, upd expression.UpdateBuilder,
	cond *expression.ConditionBuilder, ret types.ReturnValue) (map[string]types.AttributeValue, error) {
	w, err := t.update(k, upd, cond)
	if err != nil {
		return nil, err
	}
	u := w.Update
	res, err := t.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: u.TableName, Key: u.Key,
		UpdateExpression: u.UpdateExpression, ConditionExpression: u.ConditionExpression,
		ExpressionAttributeNames: u.ExpressionAttributeNames, ExpressionAttributeValues: u.ExpressionAttributeValues,
		ReturnValues: ret})
	if err != nil {
		return nil, stale(op, err)
	}
	return res.Attributes, nil
}

// deleteItem deletes one item with an optional condition and returns its
// old attributes when ret asks for them; domain.ErrStale when the condition
// fails.
func (t *table) deleteItem(ctx context.Context, op string, k key, cond *expression.ConditionBuilder,
	ret types.ReturnValue) (map[string]types.AttributeValue, error) {
	in := &dynamodb.DeleteItemInput{TableName: &t.name, Key: k.av(), ReturnValues: ret}
	if cond != nil {
		expr, err := expression.NewBuilder().WithCondition(*cond).Build()
		if err != nil {
			return nil, err
		}
		in.ConditionExpression, in.ExpressionAttributeNames, in.ExpressionAttributeValues = expr.Condition(), expr.Names(), expr.Values()
	}
	res, err := t.db.DeleteItem(ctx, in)
	if err != nil {
		return nil, stale(op, err)
	}
	return res.Attributes, nil
}

// transactAttempts bounds how often one transaction is sent while it is
// cancelled only by conflicts or throttling (see transact).
const transactAttempts = 5

// transact writes actions all or nothing, with an idempotency token when
// one is given. It is the one place every transaction goes through: a
// transaction cancelled only because its items were busy (a conflict with
// a concurrent write, throttling; no condition failed) wrote nothing, so it
// is sent again after a jittered exponential backoff, up to
// transactAttempts times and within ctx; if the items stay busy the error
// is transient (503 with Retry-After at the edge). A cancellation with a
// failed condition is domain.ErrStale, with the reason of each action for
// failedAt; the SDK's own retries already covered throttling and 5xx of the
// request as a whole.
func (t *table) transact(ctx context.Context, op, token string, actions ...types.TransactWriteItem) error {
	in := &dynamodb.TransactWriteItemsInput{TransactItems: actions}
	if token != "" {
		// The same token on every attempt: a repeat of a transaction that
		// did commit is a no-op within DynamoDB's ten minutes.
		in.ClientRequestToken = aws.String(token)
	}
	for attempt := 0; ; attempt++ {
		_, err := t.db.TransactWriteItems(ctx, in)
		if err == nil || !awserr.TransientCancellation(err) || attempt+1 >= transactAttempts {
			return stale(op, err)
		}
		if t.sleep(ctx, attempt) != nil {
			// Out of time: the conflict is the answer, as unavailable.
			return stale(op, err)
		}
	}
}

// parallel runs fn for 0..n-1 with at most concurrency at once; the first
// error wins.
func (t *table) parallel(ctx context.Context, n int, fn func(context.Context, int) error) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	sem := make(chan struct{}, max(1, t.concurrency))
	var wg sync.WaitGroup
	var once sync.Once
	var first error
	for i := 0; i < n; i++ {
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
		}
		if ctx.Err() != nil {
			break
		}
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			defer func() { <-sem }()
			if err := fn(ctx, i); err != nil {
				once.Do(func() { first = err; cancel() })
			}
		}(i)
	}
	wg.Wait()
	return first
}

// sleep waits a full-jitter exponential backoff: random in [0, base*2^attempt],
// capped at 2 s, so retries of many workers spread out.
func (t *table) sleep(ctx context.Context, attempt int) error {
	ceiling := t.backoff << min(attempt, 6)
	ceiling = min(ceiling, 2*time.Second)
	d := time.Duration(rand.Int64N(int64(ceiling) + 1))
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-timer.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// batchGet reads the items of keys, 100 keys a request (BatchGetItem's
// limit), batches in parallel, retrying unprocessed keys with backoff;
// each is called with every page read, possibly from several goroutines
// at once. A projection, when given, reads only the attributes named.
func (t *table) batchGet(ctx context.Context, keys []key, projection []string, each func([]map[string]types.AttributeValue) error) error {
	var ka types.KeysAndAttributes
	if len(projection) > 0 {
		names := make([]expression.NameBuilder, len(projection))
		for i, n := range projection {
			names[i] = expression.Name(n)
		}
		proj, err := expression.NewBuilder().WithProjection(expression.NamesList(names[0], names[1:]...)).Build()
		if err != nil {
			return err
		}
		ka.ProjectionExpression, ka.ExpressionAttributeNames = proj.Projection(), proj.Names()
	}
	n := (len(keys) + 99) / 100
	return t.parallel(ctx, n, func(ctx context.Context, i int) error {
		batch := keys[i*100 : min((i+1)*100, len(keys))]
		avs := make([]map[string]types.AttributeValue, len(batch))
		for j, k := range batch {
			avs[j] = k.av()
		}
		one := ka
		one.Keys, one.ConsistentRead = avs, aws.Bool(true)
		req := map[string]types.KeysAndAttributes{t.name: one}
		for attempt := 0; len(req) > 0; attempt++ {
			res, err := t.batch.BatchGetItem(ctx, &dynamodb.BatchGetItemInput{RequestItems: req})
			if err != nil {
				return awserr.Wrap("batch get", err)
			}
			if err := each(res.Responses[t.name]); err != nil {
				return err
			}
			req = res.UnprocessedKeys
			if len(req) > 0 {
				if err := t.sleep(ctx, attempt); err != nil {
					return err
				}
			}
		}
		return nil
	})
}

// keysOf is the key of each id under the organization.
func keysOf(orgID string, ids []string, keyOf func(orgID, id string) key) []key {
	keys := make([]key, len(ids))
	for i, id := range ids {
		keys[i] = keyOf(orgID, id)
	}
	return keys
}

// batchGetAll reads the items of keys into a map by id(item); absent
// items are left out.
func batchGetAll[T any](ctx context.Context, t *table, keys []key, projection []string, id func(T) string) (map[string]T, error) {
	out := make(map[string]T, len(keys))
	var mu sync.Mutex
	err := t.batchGet(ctx, keys, projection, func(items []map[string]types.AttributeValue) error {
		its, err := decodeAll[T](items)
		if err != nil {
			return err
		}
		mu.Lock()
		defer mu.Unlock()
		for _, it := range its {
			out[id(it)] = it
		}
		return nil
	})
	return out, err
}

// batchPut puts items 25 a request (BatchWriteItem's limit), concurrency
// in flight, retrying unprocessed items and throttling with jittered
// backoff until deadline. It returns the indexes of the items still
// unwritten then, never dropping them: those left unprocessed and those of
// batches never started.
func (t *table) batchPut(ctx context.Context, items []map[string]types.AttributeValue, deadline time.Time) ([]int, error) {
	var (
		mu     sync.Mutex
		failed []int
	)
	n := (len(items) + 24) / 25
	wctx, cancel := context.WithDeadline(ctx, deadline)
	defer cancel()
	started := make([]bool, n)
	err := t.parallel(wctx, n, func(ctx context.Context, i int) error {
		started[i] = true
		// Each request carries its item's index, so what comes back
		// unprocessed is named by index, whatever the item is.
		idx := map[string]int{}
		var batch []types.WriteRequest
		for j := i * 25; j < min((i+1)*25, len(items)); j++ {
			idx[itemKey(items[j])] = j
			batch = append(batch, types.WriteRequest{PutRequest: &types.PutRequest{Item: items[j]}})
		}
		for attempt := 0; len(batch) > 0; attempt++ {
			res, err := t.batch.BatchWriteItem(ctx, &dynamodb.BatchWriteItemInput{
				RequestItems: map[string][]types.WriteRequest{t.name: batch}})
			switch {
			case err == nil:
				batch = res.UnprocessedItems[t.name]
			case ctx.Err() != nil:
				// Out of time: what is left is reported below.
			case awserr.Transient(err):
				// Throttled as a whole: the same requests go again after a pause.
			default:
				return awserr.Wrap("batch write", err)
			}
			if len(batch) == 0 {
				return nil
			}
			if ctx.Err() != nil || t.sleep(ctx, attempt) != nil {
				mu.Lock()
				for _, r := range batch {
					failed = append(failed, idx[itemKey(r.PutRequest.Item)])
				}
				mu.Unlock()
				return nil
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	for i, ok := range started {
		if !ok {
			for j := i * 25; j < min((i+1)*25, len(items)); j++ {
				failed = append(failed, j)
			}
		}
	}
	return failed, nil
}

// itemKey is "PK\x00SK" of an item.
func itemKey(item map[string]types.AttributeValue) string {
	pk, _ := item["PK"].(*types.AttributeValueMemberS)
	sk, _ := item["SK"].(*types.AttributeValueMemberS)
	if pk == nil || sk == nil {
		return ""
	}
	return pk.Value + "\x00" + sk.Value
}

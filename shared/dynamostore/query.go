package dynamostore

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/kabinet/kabinet/shared/awserr"
	"github.com/kabinet/kabinet/shared/domain"
)

// query is one partition of the table or of an index, read in sort-key
// order: every read of more than one item goes through it (run), and every
// list a client pages through adds the one cursor codec (list).
type query struct {
	op    string // names the failure
	index string // "" for the table
	pk    string // the partition
	// sk narrows the sort key when set (beginsWith, after, before).
	sk         skCondition
	filter     *expression.ConditionBuilder
	projection []string
	backward   bool // newest (largest sort key) first
	count      bool // count the items (SELECT COUNT: no items travel back)
	consistent bool // strongly consistent (the table only)
	// maxReads bounds the Query calls one run makes: 1 returns DynamoDB's
	// page as it is; 0 reads on until the limit is met or the partition
	// ends, so a page comes back short only at the end.
	maxReads int
}

// skCondition narrows a query's sort key.
type skCondition func(expression.KeyBuilder) expression.KeyConditionBuilder

func beginsWith(prefix string) skCondition {
	return func(k expression.KeyBuilder) expression.KeyConditionBuilder { return k.BeginsWith(prefix) }
}

func after(v string) skCondition {
	return func(k expression.KeyBuilder) expression.KeyConditionBuilder {
		return k.GreaterThan(expression.Value(v))
	}
}

func before(v string) skCondition {
	return func(k expression.KeyBuilder) expression.KeyConditionBuilder { return k.LessThan(expression.Value(v)) }
}

// keyNames are the partition and sort key attributes the query reads by.
func (q query) keyNames() (pk, sk string) {
	if q.index == "" {
		return "PK", "SK"
	}
	return q.index + "PK", q.index + "SK"
}

func (q query) input(t *table) (*dynamodb.QueryInput, error) {
	pkName, skName := q.keyNames()
	kc := expression.Key(pkName).Equal(expression.Value(q.pk))
	if q.sk != nil {
		kc = kc.And(q.sk(expression.Key(skName)))
	}
	b := expression.NewBuilder().WithKeyCondition(kc)
	if q.filter != nil {
		b = b.WithFilter(*q.filter)
	}
	if len(q.projection) > 0 {
		names := make([]expression.NameBuilder, len(q.projection))
		for i, n := range q.projection {
			names[i] = expression.Name(n)
		}
		b = b.WithProjection(expression.NamesList(names[0], names[1:]...))
	}
	expr, err := b.Build()
	if err != nil {
		return nil, err
	}
	in := &dynamodb.QueryInput{TableName: &t.name, KeyConditionExpression: expr.KeyCondition(),
		FilterExpression: expr.Filter(), ProjectionExpression: expr.Projection(),
		ExpressionAttributeNames: expr.Names(), ExpressionAttributeValues: expr.Values()}
	if q.index != "" {
		in.IndexName = aws.String(q.index)
	}
	if q.backward {
		in.ScanIndexForward = aws.Bool(false)
	}
	if q.consistent {
		in.ConsistentRead = aws.Bool(true)
	}
	if q.count {
		in.Select = types.SelectCount
	}
	return in, nil
}

// run reads up to limit items (0: no limit) from after start, handing each
// page to each, and returns the key to go on from (nil at the end). At most
// the items still wanted are asked for, so a page never overflows and the
// next read starts where this one stopped. It is the one Query loop of the
// package: lists, reads of a whole partition, due items and counts.
func (t *table) run(ctx context.Context, q query, start map[string]types.AttributeValue, limit int,
	each func(*dynamodb.QueryOutput) error) (map[string]types.AttributeValue, error) {
	in, err := q.input(t)
	if err != nil {
		return nil, err
	}
	got := 0
	for reads := 0; q.maxReads == 0 || reads < q.maxReads; reads++ {
		in.ExclusiveStartKey = start
		if limit > 0 {
			in.Limit = aws.Int32(int32(limit - got))
		}
		res, err := t.db.Query(ctx, in)
		if err != nil {
			return nil, awserr.Wrap(q.op, err)
		}
		if err := each(res); err != nil {
			return nil, err
		}
		got += len(res.Items)
		if start = res.LastEvaluatedKey; len(start) == 0 || (limit > 0 && got >= limit) {
			break
		}
	}
	if len(start) == 0 {
		return nil, nil
	}
	return start, nil
}

// all reads every item of the query (up to limit when limit > 0).
func all[T any](ctx context.Context, t *table, q query, limit int) ([]T, error) {
	var out []T
	_, err := t.run(ctx, q, nil, limit, func(res *dynamodb.QueryOutput) error {
		its, err := decodeAll[T](res.Items)
		out = append(out, its...)
		return err
	})
	return out, err
}

// count counts the query's items (a COUNT query: no items travel back).
func (t *table) count(ctx context.Context, q query) (int, error) {
	q.count = true
	n := 0
	_, err := t.run(ctx, q, nil, 0, func(res *dynamodb.QueryOutput) error {
		n += int(res.Count)
		return nil
	})
	return n, err
}

// cursor is the one cursor codec of every list: the last evaluated key's
// sort keys, base64url JSON. Only sort keys travel; the partitions are
// rebuilt from the caller's tenant and the list's own partition, so a
// cursor can never reach into another organization.
type cursor struct {
	SK    string `json:"s"`           // the table's sort key
	IdxSK string `json:"i,omitempty"` // the index's sort key, for a list on an index
}

// maxCursor bounds a cursor's length before it is decoded.
const maxCursor = 1024

func badCursor() error {
	return &domain.Error{Code: domain.CodeValidationFailed, Detail: "the cursor is invalid",
		Fields: []domain.FieldError{{Field: "cursor", Code: "cursor_invalid", Message: "use a nextCursor value as given"}}}
}

// list reads one page of a list: up to limit items of q after the cursor,
// in the item type T, and the cursor to go on from ("" at the end). The
// cursor is accepted only if valid says its keys can belong to this list;
// tablePK is the partition of the items themselves (the tenant's).
func list[T any](ctx context.Context, t *table, q query, tablePK string, limit int, cur string,
	valid func(cursor) bool) ([]T, string, error) {
	pkName, skName := q.keyNames()
	var start map[string]types.AttributeValue
	if cur != "" {
		var c cursor
		raw, err := base64.RawURLEncoding.DecodeString(cur)
		if len(cur) > maxCursor || err != nil || json.Unmarshal(raw, &c) != nil || c.SK == "" ||
			(q.index != "" && c.IdxSK == "") || !valid(c) {
			return nil, "", badCursor()
		}
		start = key{tablePK, c.SK}.av()
		if q.index != "" {
			start[pkName] = &types.AttributeValueMemberS{Value: q.pk}
			start[skName] = &types.AttributeValueMemberS{Value: c.IdxSK}
		}
	}
	var out []T
	last, err := t.run(ctx, q, start, limit, func(res *dynamodb.QueryOutput) error {
		its, err := decodeAll[T](res.Items)
		out = append(out, its...)
		return err
	})
	if err != nil || last == nil {
		return out, "", err
	}
	var c cursor
	sk, _ := last["SK"].(*types.AttributeValueMemberS)
	if sk == nil {
		return out, "", nil
	}
	c.SK = sk.Value
	if q.index != "" {
		isk, _ := last[skName].(*types.AttributeValueMemberS)
		if isk == nil {
			return out, "", nil
		}
		c.IdxSK = isk.Value
	}
	raw, _ := json.Marshal(c)
	return out, base64.RawURLEncoding.EncodeToString(raw), nil
}

// due reads, from each shard of a sparse index keyed by due time
// (partition "<prefix><shard>", sort key "<due ms, 13 digits>#…"), up to
// limit items due by now: what is due, and nothing else.
func due[T any](ctx context.Context, t *table, index, prefix string, shards int, now time.Time, limit int) ([]T, error) {
	var (
		mu  sync.Mutex
		out []T
	)
	err := t.parallel(ctx, shards, func(ctx context.Context, shard int) error {
		its, err := all[T](ctx, t, query{op: "query " + index, index: index, pk: fmt.Sprintf("%s%d", prefix, shard), maxReads: 1,
			sk: before(fmt.Sprintf("%013d$", ms(now)))}, limit)
		mu.Lock()
		defer mu.Unlock()
		out = append(out, its...)
		return err
	})
	return out, err
}

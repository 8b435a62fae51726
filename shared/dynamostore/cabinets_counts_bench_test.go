package dynamostore_test

import (
	"context"
	"maps"
	"math"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go/middleware"

	"github.com/kabinet/kabinet/shared/cabinets"
	"github.com/kabinet/kabinet/shared/dynamostore"
)

// readUnits accounts Query reads the way DynamoDB bills them: per Query
// page, the sizes of the items it read, in 4 KB units rounded up, halved
// when eventually consistent (every index read is). moto answers a fixed
// figure for ReturnConsumedCapacity, so the sizes are taken from the items
// themselves: those a Query returns, and, for a COUNT query (which
// returns none), the sizes of its partition's items measured beforehand
// (countedBytes, by index partition); for the backfill's recount, which
// projects only the state, the sizes of the whole items (fullBytes).
type readUnits struct {
	mu           sync.Mutex
	units        float64
	scanned      int64
	countedBytes map[string]int // GSI4 partition → bytes of its items
	fullBytes    int            // the organization's cabinet items, all of them
	fullItems    int            // how many they are
}

func (r *readUnits) add(stack *middleware.Stack) error {
	return stack.Initialize.Add(middleware.InitializeMiddlewareFunc("CountReadUnits",
		func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
			out, md, err := next.HandleInitialize(ctx, in)
			q, ok := in.Parameters.(*dynamodb.QueryInput)
			res, _ := out.Result.(*dynamodb.QueryOutput)
			if !ok || res == nil {
				return out, md, err
			}
			bytes := 0
			for _, it := range res.Items {
				bytes += itemSize(it)
			}
			if q.ProjectionExpression != nil && q.IndexName == nil {
				// The backfill's recount: billed on whole items, whatever it projects.
				bytes = r.fullBytes * int(res.ScannedCount) / max(r.fullItems, 1)
			}
			if q.Select == types.SelectCount {
				pk, _ := q.ExpressionAttributeValues[":0"].(*types.AttributeValueMemberS)
				if pk != nil {
					bytes = r.countedBytes[pk.Value]
				}
			}
			units := math.Ceil(float64(bytes) / 4096)
			if !aws.ToBool(q.ConsistentRead) {
				units /= 2
			}
			r.mu.Lock()
			r.units += max(units, 0.5)
			r.scanned += int64(res.ScannedCount)
			r.mu.Unlock()
			return out, md, err
		}), middleware.After)
}

func (r *readUnits) snapshot() (float64, int64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.units, r.scanned
}

// itemSize is an item's size as DynamoDB counts it: each attribute's name
// and value (strings in UTF-8 bytes, numbers about one byte per two
// digits plus one, lists and maps 3 bytes plus one per element).
func itemSize(item map[string]types.AttributeValue) int {
	n := 0
	for name, v := range item {
		n += len(name) + valueSize(v)
	}
	return n
}

func valueSize(v types.AttributeValue) int {
	switch v := v.(type) {
	case *types.AttributeValueMemberS:
		return len(v.Value)
	case *types.AttributeValueMemberN:
		return (len(strings.TrimLeft(v.Value, "-0"))+1)/2 + 1
	case *types.AttributeValueMemberBOOL, *types.AttributeValueMemberNULL:
		return 1
	case *types.AttributeValueMemberL:
		n := 3
		for _, e := range v.Value {
			n += 1 + valueSize(e)
		}
		return n
	case *types.AttributeValueMemberM:
		n := 3
		for k, e := range v.Value {
			n += 1 + len(k) + valueSize(e)
		}
		return n
	}
	return 0
}

// BenchmarkCabinetCounts answers GET /v1/cabinets/counts for an
// organization of 10,000 cabinets (1,000 under KABINET_BENCH_SIZE=small),
// spread over the six states, both ways in one run: the six COUNT queries
// of before (dynamostore's CountByQuery, kept for this comparison), which
// read every cabinet of the organization on GSI4, and the counts kept with
// the writes (CabinetCounts: one strongly consistent Query of the base and
// the sixteen counter items). Its first call on the organization is the
// one-off backfill (the organization's cabinets were written as first
// records, which move the counter items, but no base exists yet: the
// backfill recounts them from the table once), reported apart.
//
// The figures per call are DynamoDB requests, items read and read units
// (see readUnits); the old read units are also scaled to 100,000
// employees. The goal: the counts cost at most one read unit and one
// request, whatever the size, and equal the COUNT queries' answer.
func BenchmarkCabinetCounts(b *testing.B) {
	n := benchSize(benchEmployees, 1_000)
	e := newBenchEnv(b)
	ru := &readUnits{countedBytes: map[string]int{}}
	e.db = dynamodb.New(e.db.Options(), func(o *dynamodb.Options) { o.APIOptions = append(o.APIOptions, ru.add) })
	ctx := context.Background()
	table := e.freshTable(b)
	store := dynamostore.NewCabinets(e.db, table)
	org := e.ids.New()
	_, rows := organizationRows()
	now := time.Now()
	cs := make([]cabinets.Cabinet, n)
	for j, r := range rows[:n] {
		c := cabinetOf(org, r, now)
		c.State = cabinets.States[j%len(cabinets.States)]
		cs[j] = c
	}
	if _, unwritten, err := store.PutNewCabinets(ctx, cs, time.Now().Add(10*time.Minute)); err != nil || len(unwritten) > 0 {
		b.Fatalf("put cabinets: %v, %d unwritten", err, len(unwritten))
	}
	// The sizes of each state's GSI4 partition, for the COUNT queries' units.
	for _, st := range cabinets.States {
		pk := "ORG#" + org + "#CAB#" + string(st)
		p := dynamodb.NewQueryPaginator(e.db, &dynamodb.QueryInput{TableName: &table, IndexName: aws.String("GSI4"),
			KeyConditionExpression:    aws.String("GSI4PK = :pk"),
			ExpressionAttributeValues: map[string]types.AttributeValue{":pk": &types.AttributeValueMemberS{Value: pk}}})
		for p.HasMorePages() {
			page, err := p.NextPage(ctx)
			if err != nil {
				b.Fatal(err)
			}
			for _, it := range page.Items {
				ru.countedBytes[pk] += itemSize(it)
				// The index projects every attribute: its items are the table's plus no more than the index keys.
				ru.fullBytes += itemSize(it)
				ru.fullItems++
			}
		}
	}

	measure := func(fn func() (map[cabinets.State]int, error)) (map[cabinets.State]int, float64, int64, int64) {
		b.Helper()
		reqsBefore := e.counter.snapshot()
		unitsBefore, scannedBefore := ru.snapshot()
		got, err := fn()
		if err != nil {
			b.Fatal(err)
		}
		units, scanned := ru.snapshot()
		return got, units - unitsBefore, scanned - scannedBefore, e.counter.since(reqsBefore).total()
	}
	want := map[cabinets.State]int{}
	for _, c := range cs {
		want[c.State]++
	}
	back, backUnits, backItems, backReqs := measure(func() (map[cabinets.State]int, error) { return store.CabinetCounts(ctx, org) })
	if !maps.Equal(back, want) {
		b.Fatalf("backfilled counts %v, want %v", back, want)
	}
	b.Logf("one-off backfill of %d cabinets: %.1f read units, %d items read, %d requests", n, backUnits, backItems, backReqs)

	var oldUnits, newUnits float64
	var oldItems, newItems, oldReqs, newReqs int64
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		old, u, it, r := measure(func() (map[cabinets.State]int, error) { return store.CountByQuery(ctx, org) })
		oldUnits, oldItems, oldReqs = oldUnits+u, oldItems+it, oldReqs+r
		kept, u, it, r := measure(func() (map[cabinets.State]int, error) { return store.CabinetCounts(ctx, org) })
		newUnits, newItems, newReqs = newUnits+u, newItems+it, newReqs+r
		if !maps.Equal(old, want) || !maps.Equal(kept, want) {
			b.Fatalf("COUNT queries %v, kept counts %v, want %v", old, kept, want)
		}
		if u > 1 || r != 1 {
			b.Fatalf("a counts call cost %.1f read units in %d requests, want at most 1 in 1", u, r)
		}
	}
	per := func(x float64) float64 { return x / float64(b.N) }
	b.Logf("per counts call at %d cabinets: COUNT queries %.1f read units, %.0f items read, %.0f requests; kept counts %.1f read units, %.0f items read, %.0f requests",
		n, per(oldUnits), per(float64(oldItems)), per(float64(oldReqs)), per(newUnits), per(float64(newItems)), per(float64(newReqs)))
	b.ReportMetric(per(oldUnits), "old-read-units/call")
	b.ReportMetric(per(oldUnits)*100_000/float64(n), "old-read-units/call-at-100k")
	b.ReportMetric(per(float64(oldItems)), "old-items-read/call")
	b.ReportMetric(per(float64(oldReqs)), "old-ddb-requests/call")
	b.ReportMetric(per(newUnits), "read-units/call")
	b.ReportMetric(per(float64(newItems)), "items-read/call")
	b.ReportMetric(per(float64(newReqs)), "ddb-requests/call")
	b.ReportMetric(backUnits, "backfill-read-units/once")
}

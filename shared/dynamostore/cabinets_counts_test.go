package dynamostore_test

import (
	"context"
	"fmt"
	"maps"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/kabinet/kabinet/infra/testenv"
	"github.com/kabinet/kabinet/shared/cabinets"
	"github.com/kabinet/kabinet/shared/dynamostore"
)

// countsEnv is the cabinet store on a client that counts its requests,
// and the raw client, to make an organization look as it did before the
// counts were kept.
type countsEnv struct {
	db      *dynamodb.Client
	table   string
	counter *ddbCounter
	store   *dynamostore.Cabinets
}

func newCountsEnv(t *testing.T) *countsEnv {
	env := testenv.Get(t)
	c := newDDBCounter()
	db := dynamodb.NewFromConfig(env.AWS, func(o *dynamodb.Options) { o.APIOptions = append(o.APIOptions, c.add) })
	return &countsEnv{db: db, table: env.Table(), counter: c, store: dynamostore.NewCabinets(db, env.Table())}
}

// counterItems reads the organization's counter items (base and shards) by sort key.
func (e *countsEnv) counterItems(t *testing.T, org string) map[string]map[string]types.AttributeValue {
	t.Helper()
	out, err := e.db.Query(context.Background(), &dynamodb.QueryInput{TableName: &e.table,
		KeyConditionExpression: aws.String("PK = :pk AND begins_with(SK, :sk)"), ConsistentRead: aws.Bool(true),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":pk": &types.AttributeValueMemberS{Value: "ORG#" + org}, ":sk": &types.AttributeValueMemberS{Value: "CABCOUNT"}}})
	if err != nil {
		t.Fatal(err)
	}
	items := map[string]map[string]types.AttributeValue{}
	for _, it := range out.Items {
		items[it["SK"].(*types.AttributeValueMemberS).Value] = it
	}
	return items
}

// forgetCounts deletes the organization's counter items: its cabinets are
// then as those written before the counts existed.
func (e *countsEnv) forgetCounts(t *testing.T, org string) {
	t.Helper()
	for sk := range e.counterItems(t, org) {
		if _, err := e.db.DeleteItem(context.Background(), &dynamodb.DeleteItemInput{TableName: &e.table,
			Key: map[string]types.AttributeValue{"PK": &types.AttributeValueMemberS{Value: "ORG#" + org}, "SK": &types.AttributeValueMemberS{Value: sk}}}); err != nil {
			t.Fatal(err)
		}
	}
}

func (e *countsEnv) putNew(t *testing.T, org string, n int, st cabinets.State, prefix string) []cabinets.Cabinet {
	t.Helper()
	var cs []cabinets.Cabinet
	for i := range n {
		cs = append(cs, cabinets.Cabinet{OrganizationID: org, EmployeeID: fmt.Sprintf("%s%03d", prefix, i), FullName: "Сотрудник",
			State: st, Eligible: true, UpdatedAt: time.Now()})
	}
	if existed, unwritten, err := e.store.PutNewCabinets(context.Background(), cs, time.Now().Add(time.Minute)); err != nil || len(existed)+len(unwritten) > 0 {
		t.Fatalf("put new: existed %v, unwritten %v, %v", existed, unwritten, err)
	}
	for i := range cs {
		cs[i].Version = 1
	}
	return cs
}

func (e *countsEnv) move(t *testing.T, c cabinets.Cabinet, to cabinets.State) {
	t.Helper()
	next := c
	next.State = to
	if err := e.store.SaveCabinet(context.Background(), next, c.Version, c.State); err != nil {
		t.Fatal(err)
	}
}

// An organization whose cabinets predate the counts (no counter items;
// moves written since, in the shards) is counted once from its cabinets
// on its first counts call; the base stored is the recount less the moves,
// so base plus shards stays exact as writes go on, and later calls read
// the counter items only.
func TestCabinetCountsBackfill(t *testing.T) {
	ctx := context.Background()
	e := newCountsEnv(t)
	org := ids.New()
	notCreated := e.putNew(t, org, 6, cabinets.NotCreated, "N")
	created := e.putNew(t, org, 6, cabinets.Created, "C")
	e.forgetCounts(t, org)
	// Written after the deployment, before anyone read the counts.
	e.move(t, created[0], cabinets.InvitationSent)
	e.move(t, created[1], cabinets.InvitationSent)

	before := e.counter.snapshot()
	got, err := e.store.CabinetCounts(ctx, org)
	if err != nil {
		t.Fatal(err)
	}
	want := map[cabinets.State]int{cabinets.NotCreated: 6, cabinets.Created: 4, cabinets.InvitationSent: 2,
		cabinets.Active: 0, cabinets.Failed: 0, cabinets.Disabled: 0}
	if !maps.Equal(got, want) {
		t.Fatalf("backfilled counts %v, want %v", got, want)
	}
	t.Logf("backfill: %s", e.counter.since(before))
	base, ok := e.counterItems(t, org)["CABCOUNT"]
	if !ok {
		t.Fatal("no base stored")
	}
	if n := base["invitation_sent"].(*types.AttributeValueMemberN).Value; n != "0" {
		t.Fatalf("base of invitation_sent %s, want 0 (the recount's 2 less the shards' 2)", n)
	}

	e.move(t, notCreated[0], cabinets.Created)
	e.move(t, cabinets.Cabinet{OrganizationID: org, EmployeeID: created[0].EmployeeID, State: cabinets.InvitationSent, Version: 2}, cabinets.Active)
	e.putNew(t, org, 3, cabinets.Failed, "F")
	before = e.counter.snapshot()
	got, err = e.store.CabinetCounts(ctx, org)
	if err != nil {
		t.Fatal(err)
	}
	want = map[cabinets.State]int{cabinets.NotCreated: 5, cabinets.Created: 5, cabinets.InvitationSent: 1,
		cabinets.Active: 1, cabinets.Failed: 3, cabinets.Disabled: 0}
	if !maps.Equal(got, want) {
		t.Fatalf("counts after more writes %v, want %v", got, want)
	}
	if d := e.counter.since(before); d.total() != 1 || d.requests["Query"] != 1 {
		t.Fatalf("a counts call once counting began sent %s, want one Query", d)
	}
	old, err := e.store.CountByQuery(ctx, org)
	if err != nil || !maps.Equal(old, want) {
		t.Fatalf("the COUNT queries find %v (%v), want %v", old, err, want)
	}
}

// Backfills at once with writes moving counts: whatever the interleaving,
// once the writes are done the counts equal the COUNT queries.
func TestCabinetCountsBackfillRacesWrites(t *testing.T) {
	ctx := context.Background()
	e := newCountsEnv(t)
	org := ids.New()
	cs := e.putNew(t, org, 40, cabinets.Created, "E")
	e.forgetCounts(t, org)
	var wg sync.WaitGroup
	for r := range 3 {
		wg.Go(func() {
			for range 3 {
				if _, err := e.store.CabinetCounts(ctx, org); err != nil {
					t.Error(err)
				}
			}
		})
		wg.Go(func() {
			for i := r; i < len(cs); i += 3 {
				next := cs[i]
				next.State = cabinets.States[i%len(cabinets.States)]
				if next.State == cs[i].State {
					continue
				}
				if err := e.store.SaveCabinet(ctx, next, 1, cabinets.Created); err != nil {
					t.Error(err)
				}
			}
		})
	}
	wg.Wait()
	got, err := e.store.CabinetCounts(ctx, org)
	if err != nil {
		t.Fatal(err)
	}
	want, err := e.store.CountByQuery(ctx, org)
	if err != nil || !maps.Equal(got, want) {
		t.Fatalf("counts %v, the COUNT queries %v (%v)", got, want, err)
	}
	if _, ok := e.counterItems(t, org)["CABCOUNT"]; !ok {
		t.Fatal("no base stored")
	}
}

package main

import (
	"bytes"
	"context"
	"os"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/kabinet/kabinet/infra/testenv"
	"github.com/kabinet/kabinet/shared/dynamostore"
	"github.com/kabinet/kabinet/shared/platform"
)

func TestMain(m *testing.M) { os.Exit(testenv.Main(m)) }

func s(v string) types.AttributeValue { return &types.AttributeValueMemberS{Value: v} }

// `make migrate` against the template's table: three requests awaiting a
// decision stored as before (GSI11SK "<id>", written raw), in pages of two.
// The first run rewrites them to "<department>#<id>" and says so, the
// second finds them current and writes nothing; a bad resume token or an
// unknown migration is refused before anything is read.
func TestMigrateCommand(t *testing.T) {
	env := testenv.Get(t)
	ctx := context.Background()
	db := dynamodb.NewFromConfig(env.AWS)
	client := func(context.Context) (dynamostore.ScanAPI, error) { return db, nil }
	org, ids := platform.NewULIDs().New(), platform.NewULIDs()
	want := map[string]string{}
	for _, dept := range []string{"D1", "D1", "D2"} {
		id := ids.New()
		want[id] = dept + "#" + id
		if _, err := db.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(env.Table()), Item: map[string]types.AttributeValue{
			"PK": s("ORG#" + org), "SK": s("REQ#" + id), "Type": s("Request"), "ID": s(id), "OrganizationID": s(org),
			"RequestType": s("vacation"), "EmployeeID": s("E1"), "DepartmentID": s(dept), "State": s("pending_approval"),
			"Version": &types.AttributeValueMemberN{Value: "1"}, "GSI9PK": s("ORG#" + org + "#REQBY#E1"), "GSI9SK": s(id),
			"GSI11PK": s("ORG#" + org + "#AWAITING"), "GSI11SK": s(id)}}); err != nil {
			t.Fatal(err)
		}
	}
	migrate := func(args ...string) (int, string, string) {
		var out, errs bytes.Buffer
		code := run(ctx, append([]string{"-table", env.Table()}, args...), &out, &errs, client)
		return code, out.String(), errs.String()
	}
	code, out, errs := migrate("-page", "2", "-rate", "0")
	if code != 0 || !strings.Contains(out, "migrate: done: scanned 3, rewritten 3, skipped 0") || !strings.Contains(out, "-resume ") {
		t.Fatalf("first run: exit %d\n%s%s", code, out, errs)
	}
	for id, sk := range want {
		res, err := db.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(env.Table()), ConsistentRead: aws.Bool(true),
			Key: map[string]types.AttributeValue{"PK": s("ORG#" + org), "SK": s("REQ#" + id)}})
		if err != nil || res.Item["GSI11SK"].(*types.AttributeValueMemberS).Value != sk {
			t.Errorf("%s: %v, %v; want GSI11SK %s", id, res.Item["GSI11SK"], err, sk)
		}
	}
	if code, out, errs := migrate(); code != 0 || !strings.Contains(out, "migrate: done: scanned 3, rewritten 0, skipped 3 (current 3") {
		t.Fatalf("second run: exit %d\n%s%s", code, out, errs)
	}
	if code, _, errs := migrate("-resume", "not-a-token"); code != 1 || !strings.Contains(errs, "resume token") {
		t.Errorf("bad token: exit %d, %s", code, errs)
	}
	if code, _, errs := migrate("-migration", "other"); code != 2 || !strings.Contains(errs, "unknown migration") {
		t.Errorf("unknown migration: exit %d, %s", code, errs)
	}
}

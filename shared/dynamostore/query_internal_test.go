package dynamostore

import (
	"context"
	"errors"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/kabinet/kabinet/shared/awserr"
	"github.com/kabinet/kabinet/shared/domain"
)

// queryAPI answers Query from a function; nothing else is called.
type queryAPI struct {
	API
	query func(*dynamodb.QueryInput) *dynamodb.QueryOutput
	calls []*dynamodb.QueryInput
}

func (q *queryAPI) Query(_ context.Context, in *dynamodb.QueryInput, _ ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error) {
	cp := *in
	q.calls = append(q.calls, &cp)
	return q.query(in), nil
}

func s(v string) types.AttributeValue { return &types.AttributeValueMemberS{Value: v} }

// The one stale mapping: a failed condition and a cancelled transaction are
// domain.ErrStale (the latter saying which action failed); anything else is
// an adapter failure.
func TestStale(t *testing.T) {
	if stale("op", nil) != nil {
		t.Error("nil is not stale")
	}
	if err := stale("op", &types.ConditionalCheckFailedException{}); err != domain.ErrStale {
		t.Errorf("failed condition = %v", err)
	}
	err := stale("op", &types.TransactionCanceledException{CancellationReasons: []types.CancellationReason{
		{Code: aws.String("None")}, {Code: aws.String("ConditionalCheckFailed")}}})
	if !errors.Is(err, domain.ErrStale) || failedAt(err, 0) || !failedAt(err, 1) || failedAt(err, 2) || failedAt(err, -1) {
		t.Errorf("cancelled = %v", err)
	}
	var ae *awserr.Error
	if err := stale("op", errors.New("boom")); !errors.As(err, &ae) || isStale(err) {
		t.Errorf("other = %v", err)
	}
}

// A list's cursor carries only sort keys: the next page starts in the
// caller's partitions whatever the cursor says, and a cursor that cannot
// belong to the list is refused before anything is read.
func TestListCursor(t *testing.T) {
	api := &queryAPI{query: func(in *dynamodb.QueryInput) *dynamodb.QueryOutput {
		if in.ExclusiveStartKey == nil {
			return &dynamodb.QueryOutput{Items: []map[string]types.AttributeValue{{"PK": s("ORG#a"), "SK": s("CAB#1")}},
				LastEvaluatedKey: map[string]types.AttributeValue{"PK": s("ORG#a"), "SK": s("CAB#1"),
					"GSI5PK": s("ORG#a#CAB"), "GSI5SK": s("ivanov#1")}}
		}
		return &dynamodb.QueryOutput{}
	}}
	tb := newTable(api, "t")
	q := query{op: "list", index: "GSI5", pk: "ORG#b#CAB", maxReads: 1}
	valid := func(c cursor) bool { return len(c.SK) > 4 && c.SK[:4] == "CAB#" }
	its, next, err := list[key](context.Background(), tb, q, "ORG#b", 1, "", valid)
	if err != nil || len(its) != 1 || next == "" {
		t.Fatalf("first page = %v, %q, %v", its, next, err)
	}
	_, last, err := list[key](context.Background(), tb, q, "ORG#b", 1, next, valid)
	if err != nil || last != "" {
		t.Fatalf("second page = %q, %v", last, err)
	}
	start := api.calls[1].ExclusiveStartKey
	for name, want := range map[string]string{"PK": "ORG#b", "SK": "CAB#1", "GSI5PK": "ORG#b#CAB", "GSI5SK": "ivanov#1"} {
		if got := start[name].(*types.AttributeValueMemberS).Value; got != want {
			t.Errorf("start %s = %q, want %q", name, got, want)
		}
	}
	for _, bad := range []string{"garbage!", "e30", "eyJzIjoiQ0FCIzEifQ", "eyJzIjoiRU1QIzEiLCJpIjoieCJ9"} {
		// not base64; {}; no index sort key; not a cabinet's key
		if _, _, err := list[key](context.Background(), tb, q, "ORG#b", 1, bad, valid); !isBadCursor(err) {
			t.Errorf("cursor %q: %v", bad, err)
		}
	}
	if len(api.calls) != 2 {
		t.Errorf("%d queries, want 2", len(api.calls))
	}
}

func isBadCursor(err error) bool {
	var de *domain.Error
	return errors.As(err, &de) && len(de.Fields) == 1 && de.Fields[0].Code == "cursor_invalid"
}

package dynamostore

import (
	"context"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// The pacer spaces calls 1/rate apart: 11 calls at 200 a second take at
// least the 10 intervals between them; a rate of 0 does not wait.
func TestPacerBoundsTheRate(t *testing.T) {
	pace := pacer(200)
	start := time.Now()
	for range 11 {
		if err := pace(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	if d := time.Since(start); d < 50*time.Millisecond {
		t.Errorf("11 calls at 200/s took %v, want at least 50ms", d)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	slow := pacer(0.001)
	_ = slow(ctx) // the first call goes at once
	if err := slow(ctx); err == nil {
		t.Error("a wait past a cancelled context returned no error")
	}
}

// A resume token is what a run printed: the scan's four string keys; any
// other string is refused before a request is sent.
func TestResumeTokenRoundTrip(t *testing.T) {
	k := map[string]types.AttributeValue{"PK": &types.AttributeValueMemberS{Value: "ORG#o"},
		"SK": &types.AttributeValueMemberS{Value: "REQ#r"}, "GSI11PK": &types.AttributeValueMemberS{Value: "ORG#o#AWAITING"},
		"GSI11SK": &types.AttributeValueMemberS{Value: "r"}}
	got, err := decodeResume(encodeResume(k))
	if err != nil || len(got) != 4 || got["GSI11SK"].(*types.AttributeValueMemberS).Value != "r" {
		t.Fatalf("round trip: %v, %v", got, err)
	}
	for _, bad := range []string{"x", "e30", encodeResume(map[string]types.AttributeValue{"PK": k["PK"]})} {
		if _, err := decodeResume(bad); err == nil {
			t.Errorf("token %q accepted", bad)
		}
	}
}

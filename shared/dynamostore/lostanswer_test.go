package dynamostore_test

import (
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/kabinet/kabinet/infra/testenv"
	"github.com/kabinet/kabinet/shared/dynamostore"
	"github.com/kabinet/kabinet/shared/onboarding"
	"github.com/kabinet/kabinet/shared/onboarding/onboardingtest"
	"github.com/kabinet/kabinet/shared/security"
)

// lostAnswerTransport forwards every request to moto, but loses the answer
// of the next `lose` PutItem calls after moto applied them: the SDK gets a
// 500 InternalServerError, as DynamoDB may answer a write it did make, and
// retries the same request.
type lostAnswerTransport struct {
	next http.RoundTripper

	mu   sync.Mutex
	lose int
	puts int
}

func (lt *lostAnswerTransport) arm(n int) {
	lt.mu.Lock()
	defer lt.mu.Unlock()
	lt.lose, lt.puts = n, 0
}

func (lt *lostAnswerTransport) sent() int {
	lt.mu.Lock()
	defer lt.mu.Unlock()
	return lt.puts
}

func (lt *lostAnswerTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := lt.next.RoundTrip(req)
	if err != nil || !strings.HasSuffix(req.Header.Get("X-Amz-Target"), ".PutItem") {
		return resp, err
	}
	lt.mu.Lock()
	lt.puts++
	lose := lt.lose > 0
	if lose {
		lt.lose--
	}
	lt.mu.Unlock()
	if !lose {
		return resp, nil
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	_ = resp.Body.Close()
	return awsError(req, http.StatusInternalServerError, "InternalServerError", `"message":"Internal server error"`), nil
}

// A sign-in's session and refresh token are conditional puts (the item must
// not exist). When DynamoDB applied such a put but its answer was lost, the
// SDK sends it again and the condition fails on the item the first attempt
// wrote: that was domain.ErrStale, an internal error, and the sign-in
// answered 500. The retry of one's own write must succeed, and a put that
// meets someone else's item must still be refused.
func TestSignInWritesSurviveARetryOfTheirOwnPut(t *testing.T) {
	env := testenv.Get(t)
	lt := &lostAnswerTransport{next: &http.Transport{DisableKeepAlives: true}}
	db := dynamodb.NewFromConfig(env.AWS, func(o *dynamodb.Options) {
		o.HTTPClient = &http.Client{Transport: lt}
		o.Retryer = retry.NewStandard(func(so *retry.StandardOptions) {
			so.MaxBackoff = 20 * time.Millisecond
			so.RateLimiter = ratelimit.None
		})
	})
	store := dynamostore.New(db, env.Table())
	now := time.Date(2026, 12, 3, 10, 0, 0, 0, time.UTC)
	org, person := onboardingtest.NewOrganization(t, store, now)

	rec := onboarding.SessionRecord{OrganizationID: org.ID, PersonID: person.ID, ID: ids.New(), Epoch: 1,
		CreatedAt: now, LastUsedAt: now, ExpiresAt: now.Add(time.Hour), SourceIP: "203.0.113.1", UserAgent: "demo"}
	lt.arm(1)
	if err := store.StartSession(ctx, rec); err != nil {
		t.Fatalf("start session, its first answer lost: %v", err)
	}
	if n := lt.sent(); n != 2 {
		t.Fatalf("%d PutItem sent, want the lost one and its retry", n)
	}
	got, _, err := store.Sessions(ctx, org.ID, person.ID, 10, "")
	if err != nil || len(got) != 1 || got[0].ID != rec.ID || got[0].UserAgent != "demo" {
		t.Fatalf("sessions %+v %v", got, err)
	}
	other := rec
	other.UserAgent = "someone else"
	if err := store.StartSession(ctx, other); err == nil {
		t.Fatal("a session over another's item was accepted")
	}

	secret, err := security.NewSecret()
	if err != nil {
		t.Fatal(err)
	}
	tok := onboarding.RefreshToken{OrganizationID: org.ID, PersonID: person.ID, FamilyID: rec.ID,
		Hash: security.HashSecret(security.JoinToken(org.ID, secret)), ExpiresAt: now.Add(time.Hour), Epoch: 1, Tracked: true}
	lt.arm(1)
	if err := store.PutRefreshToken(ctx, tok); err != nil {
		t.Fatalf("put refresh token, its first answer lost: %v", err)
	}
	if n := lt.sent(); n != 2 {
		t.Fatalf("%d PutItem sent, want the lost one and its retry", n)
	}
	taken, err := store.TakeRefreshToken(ctx, org.ID, tok.Hash, now)
	if err != nil || taken.FamilyID != rec.ID || taken.PersonID != person.ID {
		t.Fatalf("take %+v %v", taken, err)
	}
	// Taken, the token is no longer the item a put would write: a put of it
	// again is refused rather than bringing it back unused.
	if err := store.PutRefreshToken(ctx, tok); err == nil {
		t.Fatal("a used refresh token was put back")
	}
}

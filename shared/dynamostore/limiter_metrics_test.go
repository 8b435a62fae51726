package dynamostore_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/kabinet/kabinet/infra/testenv"
	"github.com/kabinet/kabinet/shared/dynamostore"
	"github.com/kabinet/kabinet/shared/platform"
)

type tripCounter struct {
	mu sync.Mutex
	n  map[string]int
}

func (c *tripCounter) Count(_ context.Context, name string, n int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.n[name] += n
}

// Every refusal of the limiter, whichever rule asked, is one LimiterTrips;
// an allowed event counts nothing.
func TestLimiterRefusalsAreCountedAsTrips(t *testing.T) {
	env := testenv.Get(t)
	c := &tripCounter{n: map[string]int{}}
	platform.SetMetrics(c)
	t.Cleanup(func() { platform.SetMetrics(nil) })
	l := dynamostore.NewLimiter(dynamostore.New(dynamodb.NewFromConfig(env.AWS), env.Table()))
	ctx := context.Background()
	now := time.Now()
	key := "metrics-test:" + platform.NewULIDs().New()
	for i, want := range []bool{true, true, false, false} {
		ok, _, err := l.Allow(ctx, key, 2, time.Hour, now)
		if err != nil || ok != want {
			t.Fatalf("event %d: allowed %v, %v; want %v", i, ok, err, want)
		}
	}
	if c.n["LimiterTrips"] != 2 || len(c.n) != 1 {
		t.Errorf("counted %v, want LimiterTrips 2", c.n)
	}
}

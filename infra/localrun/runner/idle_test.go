package runner

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/kabinet/kabinet/infra/moto"
)

// fakeQueues answers GetQueueAttributes with counts a test sets.
type fakeQueues struct {
	mu     sync.Mutex
	counts map[string][3]string // visible, not visible, delayed
}

func (f *fakeQueues) GetQueueAttributes(_ context.Context, in *sqs.GetQueueAttributesInput, _ ...func(*sqs.Options)) (*sqs.GetQueueAttributesOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	c, ok := f.counts[aws.ToString(in.QueueUrl)]
	if !ok {
		c = [3]string{"0", "0", "0"}
	}
	return &sqs.GetQueueAttributesOutput{Attributes: map[string]string{
		"ApproximateNumberOfMessages": c[0], "ApproximateNumberOfMessagesNotVisible": c[1], "ApproximateNumberOfMessagesDelayed": c[2],
	}}, nil
}

func TestIdleness(t *testing.T) {
	ctx := context.Background()
	act := &Activity{}
	q := &fakeQueues{counts: map[string][3]string{}}
	idle := &Idleness{Activity: act, SQS: q, Queues: []string{"q1", "q2"}}
	if ok, busy, err := idle.Check(ctx); !ok || err != nil {
		t.Fatalf("quiet system: %v %v %v", ok, busy, err)
	}

	q.counts["q2"] = [3]string{"0", "1", "0"}
	if ok, busy, _ := idle.Check(ctx); ok || len(busy) != 1 {
		t.Fatalf("message in flight: %v %v", ok, busy)
	}
	q.counts["q2"] = [3]string{"0", "0", "0"}

	// An invocation in flight is busy, and the check sees it through Wrap.
	entered, release := make(chan struct{}), make(chan struct{})
	inv := act.Wrap(InvokerFunc(func(context.Context, string, []byte) ([]byte, error) {
		close(entered)
		<-release
		return nil, nil
	}))
	done := make(chan struct{})
	go func() { _, _ = inv.Invoke(ctx, "F", nil); close(done) }()
	<-entered
	if ok, busy, _ := idle.Check(ctx); ok || len(busy) != 1 {
		t.Fatalf("invocation in flight: %v %v", ok, busy)
	}

	// GET /_local/idle?wait= answers once the invocation ends.
	srv := httptest.NewServer(idle)
	defer srv.Close()
	got := make(chan *http.Response, 1)
	go func() {
		resp, err := http.Get(srv.URL + "?wait=1m")
		if err != nil {
			t.Error(err)
		}
		got <- resp
	}()
	close(release)
	<-done
	resp := <-got
	var body map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&body)
	_ = resp.Body.Close()
	if resp.StatusCode != 200 || body["idle"] != true {
		t.Fatalf("wait: %d %v", resp.StatusCode, body)
	}

	// Without wait it answers at once; busy is 503 with the reasons.
	q.counts["q1"] = [3]string{"2", "0", "0"}
	resp, err := http.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	body = nil
	_ = json.NewDecoder(resp.Body).Decode(&body)
	_ = resp.Body.Close()
	if resp.StatusCode != 503 || body["idle"] != false || len(body["busy"].([]any)) != 1 {
		t.Fatalf("busy: %d %v", resp.StatusCode, body)
	}
	if resp, _ := http.Get(srv.URL + "?wait=forever"); resp.StatusCode != 400 {
		t.Fatalf("bad wait: %d", resp.StatusCode)
	}
}

func TestOutboxReadsOnlyWhatIsNew(t *testing.T) {
	var asked [][2]int
	all := moto.Sent{
		SMS:    []moto.SentSMS{{MessageID: "s1", PhoneNumber: "+7", Message: "one"}, {MessageID: "s2", PhoneNumber: "+7", Message: "two"}},
		Emails: []moto.SentEmail{{ID: "e1", Source: "a@b", Subject: "hi", Destinations: map[string][]string{"ToAddresses": {"c@d"}}}},
	}
	visible := moto.Sent{SMS: all.SMS[:1]}
	o := &Outbox{Read: func(_ context.Context, sms, emails int) (moto.Sent, error) {
		asked = append(asked, [2]int{sms, emails})
		return moto.Sent{SMS: visible.SMS[sms:], Emails: visible.Emails[emails:]}, nil
	}}
	if err := o.Poll(context.Background()); err != nil {
		t.Fatal(err)
	}
	first := o.Contents()
	if len(first.SMS) != 1 || first.Last != 1 || first.SMS[0].Seq != 1 {
		t.Fatalf("first: %+v", first)
	}
	visible = all
	if err := o.Poll(context.Background()); err != nil {
		t.Fatal(err)
	}
	if asked[1] != [2]int{1, 0} {
		t.Fatalf("second read asked from %v, want from what the outbox has", asked[1])
	}
	later := o.Since(first.Last)
	if len(later.SMS) != 1 || later.SMS[0].ID != "s2" || len(later.Emails) != 1 || later.Emails[0].Seq != 3 || later.Last != 3 {
		t.Fatalf("since %d: %+v", first.Last, later)
	}
	if c := o.Contents(); len(c.SMS) != 2 || len(c.Emails) != 1 {
		t.Fatalf("all: %+v", c)
	}

	srv := httptest.NewServer(o)
	defer srv.Close()
	resp, err := http.Get(srv.URL + "?since=2")
	if err != nil {
		t.Fatal(err)
	}
	var got OutboxContents
	_ = json.NewDecoder(resp.Body).Decode(&got)
	_ = resp.Body.Close()
	if len(got.SMS) != 0 || len(got.Emails) != 1 || got.Last != 3 {
		t.Fatalf("GET ?since=2: %+v", got)
	}
	if resp, _ := http.Get(srv.URL + "?since=x"); resp.StatusCode != 400 {
		t.Fatalf("bad since: %d", resp.StatusCode)
	}
}

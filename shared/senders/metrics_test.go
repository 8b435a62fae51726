package senders_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
	"github.com/aws/aws-sdk-go-v2/service/sns"

	"github.com/kabinet/kabinet/shared/notify"
	"github.com/kabinet/kabinet/shared/platform"
	"github.com/kabinet/kabinet/shared/senders"
)

// countingMetrics records what platform.Count receives.
type countingMetrics struct {
	mu sync.Mutex
	n  map[string]int
}

func (c *countingMetrics) Count(_ context.Context, name string, n int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.n[name] += n
}

// replies answers every SDK request with one canned HTTP response, so the
// real SNS and SES clients (serialization, error parsing) run without a network.
type replies struct {
	status int
	body   string
	ctype  string
}

func (r replies) Do(req *http.Request) (*http.Response, error) {
	return &http.Response{StatusCode: r.status, Header: http.Header{"Content-Type": {r.ctype}},
		Body: io.NopCloser(strings.NewReader(r.body)), Request: req}, nil
}

func sdkConfig(r replies) aws.Config {
	return aws.Config{Region: "eu-central-1", HTTPClient: r, RetryMaxAttempts: 1,
		Credentials: aws.AnonymousCredentials{}}
}

// TestSendsAndFailuresAreCounted checks the metrics the dashboard draws and
// the runbooks cite: a provider that accepts counts as Sent, one that refuses
// as Failed, per channel.
func TestSendsAndFailuresAreCounted(t *testing.T) {
	m := &countingMetrics{n: map[string]int{}}
	platform.SetMetrics(m)
	t.Cleanup(func() { platform.SetMetrics(nil) })
	ctx := context.Background()

	okSNS := sns.NewFromConfig(sdkConfig(replies{200, `<PublishResponse xmlns="http://sns.amazonaws.com/doc/2010-03-31/"><PublishResult><MessageId>m-1</MessageId></PublishResult></PublishResponse>`, "text/xml"}))
	badSNS := sns.NewFromConfig(sdkConfig(replies{400, `<ErrorResponse><Error><Type>Sender</Type><Code>InvalidParameter</Code><Message>Invalid parameter: PhoneNumber</Message></Error><RequestId>r</RequestId></ErrorResponse>`, "text/xml"}))
	okSES := sesv2.NewFromConfig(sdkConfig(replies{200, `{"MessageId":"e-1"}`, "application/json"}))
	badSES := sesv2.NewFromConfig(sdkConfig(replies{400, `{"message":"Email address is not verified."}`, "application/json"}))

	if id, err := (&senders.Sender{SNS: okSNS, SES: okSES, From: "no-reply@kabinet.test"}).SendSMS(ctx, "+79161234567", "код 123456"); err != nil || id != "m-1" {
		t.Fatalf("SMS: %q %v", id, err)
	}
	if _, err := (&senders.Sender{SNS: badSNS, SES: badSES, From: "no-reply@kabinet.test"}).SendSMS(ctx, "+7000", "код"); !errors.Is(err, notify.ErrPermanent) {
		t.Fatalf("refused SMS: %v, want a permanent failure", err)
	}
	for range 2 {
		if _, err := (&senders.Sender{SNS: okSNS, SES: okSES, From: "no-reply@kabinet.test"}).SendEmail(ctx, "a@kabinet.test", "Тема", "текст", ""); err != nil {
			t.Fatalf("e-mail: %v", err)
		}
	}
	if _, err := (&senders.Sender{SNS: badSNS, SES: badSES, From: "no-reply@kabinet.test"}).SendEmail(ctx, "a@kabinet.test", "Тема", "текст", ""); err == nil {
		t.Fatal("refused e-mail: no error")
	}

	want := map[string]int{"SMSSent": 1, "SMSFailed": 1, "EmailsSent": 2, "EmailsFailed": 1}
	for k, v := range want {
		if m.n[k] != v {
			t.Errorf("%s = %d, want %d (all: %v)", k, m.n[k], v, m.n)
		}
	}
	if len(m.n) != len(want) {
		t.Errorf("unexpected metrics: %v", m.n)
	}
}

package runner

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
	sestypes "github.com/aws/aws-sdk-go-v2/service/sesv2/types"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/kabinet/kabinet/infra/moto"
	"github.com/kabinet/kabinet/infra/samtemplate"
)

type lockedBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuf) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuf) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// TestRunEndToEnd runs the fixture template (testdata/template.yaml) with the
// echo test function standing in for every function, against moto.
func TestRunEndToEnd(t *testing.T) {
	moto.SkipIfShort(t)
	bin := filepath.Join(t.TempDir(), "bootstrap")
	if out, err := exec.Command("go", "build", "-tags", "lambda.norpc", "-o", bin, "../../lambdart/testdata/echo").CombinedOutput(); err != nil {
		t.Fatalf("build echo: %v\n%s", err, out)
	}
	t.Setenv("AWS_ENDPOINT_URL", "") // make Run start moto
	t.Setenv("AWS_ACCESS_KEY_ID", "test")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "test")
	t.Setenv("AWS_REGION", "us-east-1")
	t.Setenv("AWS_DEFAULT_REGION", "us-east-1")

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	console := &lockedBuf{}
	ready := make(chan string, 1)
	done := make(chan error, 1)
	go func() {
		done <- Run(ctx, Options{
			Template:   "testdata/template.yaml",
			Root:       t.TempDir(),
			Addr:       "127.0.0.1:0",
			Console:    console,
			Parameters: map[string]string{"Secret": "s3cret"},
			Build: func(ctx context.Context, root string, f samtemplate.Function) (string, error) {
				return bin, nil
			},
			OnReady: func(addr string) { ready <- addr },
		})
	}()
	var base string
	select {
	case addr := <-ready:
		base = "http://" + addr
	case err := <-done:
		t.Fatalf("Run: %v\n%s", err, console.String())
	case <-time.After(5 * time.Minute): // moto's start-up is slow on a busy machine
		t.Fatalf("not ready\n%s", console.String())
	}
	defer func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Run: %v", err)
			}
		case <-time.After(15 * time.Second):
			t.Error("Run did not stop")
		}
		if t.Failed() {
			t.Logf("console:\n%s", console.String())
		}
	}()

	get := func(method, path, body string, hdr map[string]string) (*http.Response, string) {
		t.Helper()
		req, _ := http.NewRequest(method, base+path, strings.NewReader(body))
		for k, v := range hdr {
			req.Header.Set(k, v)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp, string(b)
	}

	resp, body := get("GET", "/_local/health", "", nil)
	if resp.StatusCode != 200 || body != `{"status":"ok"}` {
		t.Fatalf("health: %d %s", resp.StatusCode, body)
	}

	// An HTTP route: the real event and the function's environment.
	resp, body = get("GET", "/items/42?x=1", "", map[string]string{"X-Forwarded-For": "9.9.9.9", "Cookie": "a=b"})
	if resp.StatusCode != 201 || resp.Header.Get("X-Echo") != "1" || len(resp.Header.Values("Set-Cookie")) != 2 || resp.Header.Get("Apigw-Requestid") == "" {
		t.Fatalf("GET /items/42: %d %v %s", resp.StatusCode, resp.Header, body)
	}
	var echo struct {
		Event struct {
			RouteKey       string            `json:"routeKey"`
			PathParameters map[string]string `json:"pathParameters"`
			Cookies        []string          `json:"cookies"`
			RequestContext struct {
				APIID string `json:"apiId"`
				HTTP  struct {
					SourceIP string `json:"sourceIp"`
				} `json:"http"`
			} `json:"requestContext"`
		} `json:"event"`
		Env map[string]string `json:"env"`
	}
	if err := json.Unmarshal([]byte(body), &echo); err != nil {
		t.Fatal(err)
	}
	if echo.Event.RouteKey != "GET /items/{id}" || echo.Event.PathParameters["id"] != "42" || echo.Event.RequestContext.HTTP.SourceIP != "127.0.0.1" ||
		echo.Event.RequestContext.APIID != "api" || len(echo.Event.Cookies) != 1 {
		t.Errorf("event: %+v", echo.Event)
	}
	env := echo.Env
	for k, want := range map[string]string{
		"TABLE_NAME": "Table", "SECRET": "s3cret", "GREETING": "hello-us-east-1", "AWS_LAMBDA_FUNCTION_NAME": "EchoFunction",
		"AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "256", "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST", "AWS_REGION": "us-east-1",
		"AWS_ACCESS_KEY_ID": "test", "_HANDLER": "bootstrap", "AWS_LAMBDA_LOG_FORMAT": "JSON",
	} {
		if env[k] != want {
			t.Errorf("env %s = %q, want %q", k, env[k], want)
		}
	}
	if !strings.HasPrefix(env["AWS_ENDPOINT_URL"], "http://127.0.0.1:") || !strings.HasSuffix(env["JOBS_URL"], "/123456789012/Jobs") {
		t.Errorf("endpoint %q, jobs url %q", env["AWS_ENDPOINT_URL"], env["JOBS_URL"])
	}
	if _, ok := env["HOME"]; ok {
		t.Error("host environment leaked into the function")
	}

	// The functions' clock: its file is in the environment, /_local/clock moves it.
	clockFile := env[ClockFileEnv]
	if clockFile == "" {
		t.Errorf("no %s in the function's environment", ClockFileEnv)
	}
	resp, body = get("POST", "/_local/clock", `{"advance":"169h"}`, nil)
	var st ClockState
	if err := json.Unmarshal([]byte(body), &st); err != nil || resp.StatusCode != 200 || st.Offset != "169h0m0s" {
		t.Errorf("advance clock: %d %s", resp.StatusCode, body)
	} else if now, err := time.Parse(time.RFC3339, st.Now); err != nil || time.Until(now) < 168*time.Hour {
		t.Errorf("clock now %q: %v", st.Now, err)
	}
	if b, err := os.ReadFile(clockFile); err != nil || string(b) != "169h0m0s" {
		t.Errorf("clock file %q: %v", b, err)
	}
	if resp, body = get("POST", "/_local/clock", `{"advance":"soon"}`, nil); resp.StatusCode != 400 {
		t.Errorf("bad clock body: %d %s", resp.StatusCode, body)
	}
	if resp, body = get("POST", "/_local/clock", `{"reset":true}`, nil); resp.StatusCode != 200 || !strings.Contains(body, `"offset":"0s"`) {
		t.Errorf("reset clock: %d %s", resp.StatusCode, body)
	}
	if resp, body = get("GET", "/_local/clock", "", nil); resp.StatusCode != 200 || !strings.Contains(body, `"offset":"0s"`) {
		t.Errorf("get clock: %d %s", resp.StatusCode, body)
	}
	if resp, _ := get("POST", "/items/42", "", nil); resp.StatusCode != 404 {
		t.Errorf("wrong method: %d", resp.StatusCode)
	}
	if resp, _ := get("GET", "/_local/nothing", "", nil); resp.StatusCode != 404 {
		t.Errorf("unknown local path: %d", resp.StatusCode)
	}
	// The function's output reaches the console, prefixed.
	resp, body = get("POST", "/items", `{"crash":true}`, map[string]string{"Content-Type": "application/json"})
	if resp.StatusCode != 500 || body != `{"message":"Internal Server Error"}` {
		t.Errorf("crash: %d %s", resp.StatusCode, body)
	}
	resp, body = get("POST", "/items", `{"sleepMs":3000}`, map[string]string{"Content-Type": "application/json"})
	if resp.StatusCode != 500 {
		t.Errorf("timeout: %d %s", resp.StatusCode, body)
	}
	if resp, _ := get("GET", "/items/1", "", nil); resp.StatusCode != 201 {
		t.Errorf("after crash and timeout: %d", resp.StatusCode)
	}

	// Schedules on demand.
	resp, body = get("POST", "/_local/schedules/WorkerFunction/Nightly", "", nil)
	if resp.StatusCode != 200 || !strings.Contains(body, `"job":"nightly"`) {
		t.Errorf("fire Nightly: %d %s", resp.StatusCode, body)
	}
	resp, body = get("POST", "/_local/schedules/WorkerFunction/Often", "", nil)
	if resp.StatusCode != 200 || !strings.Contains(body, `"source":"aws.scheduler"`) || !strings.Contains(body, `"detail-type":"Scheduled Event"`) {
		t.Errorf("fire Often: %d %s", resp.StatusCode, body)
	}
	if resp, _ := get("POST", "/_local/schedules/Nope", "", nil); resp.StatusCode != 404 {
		t.Errorf("unknown schedule: %d", resp.StatusCode)
	}

	// SQS: "ok" is deleted, "fail" is retried, then dead-lettered after 2 receives.
	cfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		t.Fatal(err)
	}
	sq := sqs.NewFromConfig(cfg)
	jobs, dlq := env["JOBS_URL"], strings.Replace(env["JOBS_URL"], "/Jobs", "/DLQ", 1)
	for _, b := range []string{"ok", "fail"} {
		if _, err := sq.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: aws.String(jobs), MessageBody: aws.String(b),
			MessageAttributes: map[string]sqstypes.MessageAttributeValue{"k": {DataType: aws.String("String"), StringValue: aws.String("v")}}}); err != nil {
			t.Fatal(err)
		}
	}
	deadline := time.Now().Add(20 * time.Second)
	var dead []string
	for time.Now().Before(deadline) && len(dead) == 0 {
		out, err := sq.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: aws.String(dlq), WaitTimeSeconds: 1})
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range out.Messages {
			dead = append(dead, aws.ToString(m.Body))
		}
	}
	if len(dead) != 1 || dead[0] != "fail" {
		t.Errorf("dead letters: %v", dead)
	}
	// Once the poller has handled both, the system says it is idle.
	if resp, body := get("GET", "/_local/idle?wait=2m", "", nil); resp.StatusCode != 200 || !strings.Contains(body, `"idle":true`) {
		t.Errorf("idle: %d %s", resp.StatusCode, body)
	}
	a, err := sq.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: aws.String(jobs), AttributeNames: []sqstypes.QueueAttributeName{"All"}})
	if err != nil {
		t.Fatal(err)
	}
	if a.Attributes["ApproximateNumberOfMessages"] != "0" || a.Attributes["ApproximateNumberOfMessagesNotVisible"] != "0" {
		t.Errorf("jobs queue not drained: %v", a.Attributes)
	}

	// Outbox: what the functions send through SES and SNS.
	ses := sesv2.NewFromConfig(cfg)
	if _, err := ses.CreateEmailIdentity(ctx, &sesv2.CreateEmailIdentityInput{EmailIdentity: aws.String("example.com")}); err != nil {
		t.Fatal(err)
	}
	_, err = ses.SendEmail(ctx, &sesv2.SendEmailInput{
		FromEmailAddress: aws.String("no-reply@example.com"),
		Destination:      &sestypes.Destination{ToAddresses: []string{"ann@example.org"}},
		Content: &sestypes.EmailContent{Simple: &sestypes.Message{
			Subject: &sestypes.Content{Data: aws.String("Your code")},
			Body:    &sestypes.Body{Text: &sestypes.Content{Data: aws.String("Code: 123456")}},
		}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := sns.NewFromConfig(cfg).Publish(ctx, &sns.PublishInput{PhoneNumber: aws.String("+79990001122"), Message: aws.String("Code: 654321")}); err != nil {
		t.Fatal(err)
	}
	resp, body = get("GET", "/_local/outbox", "", nil)
	var ob OutboxContents
	if err := json.Unmarshal([]byte(body), &ob); err != nil || resp.StatusCode != 200 {
		t.Fatalf("outbox: %d %s %v", resp.StatusCode, body, err)
	}
	if len(ob.Emails) != 1 || ob.Emails[0].Subject != "Your code" || fmt.Sprint(ob.Emails[0].To) != "[ann@example.org]" ||
		!strings.Contains(ob.Emails[0].Body, "123456") || ob.Emails[0].From != "no-reply@example.com" || ob.Emails[0].SentAt.IsZero() {
		t.Errorf("outbox e-mails: %+v", ob.Emails)
	}
	if len(ob.SMS) != 1 || ob.SMS[0].To != "+79990001122" || ob.SMS[0].Text != "Code: 654321" || ob.SMS[0].ID == "" {
		t.Errorf("outbox sms: %+v", ob.SMS)
	}
	if !strings.Contains(body, `"sms":[{"id":`) || !strings.Contains(body, `"emails":[{"id":`) {
		t.Errorf("outbox JSON shape: %s", body)
	}

	out := console.String()
	for _, want := range []string{"GET     /items/{id}", "Jobs", "cron(0 3 * * ? *)", "[EchoFunction] crashing on purpose", "[WorkerFunction] got", "Your code", "Code: 654321"} {
		if !strings.Contains(out, want) {
			t.Errorf("console lacks %q", want)
		}
	}
}

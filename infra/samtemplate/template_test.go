package samtemplate

import (
	"reflect"
	"strings"
	"testing"
)

func loadReal(t *testing.T) *Template {
	t.Helper()
	tmpl, err := Load("../../template.yaml")
	if err != nil {
		t.Fatal(err)
	}
	return tmpl
}

func TestRealTemplateRoutes(t *testing.T) {
	tmpl := loadReal(t)
	got := map[string]string{}
	for _, r := range tmpl.Routes() {
		if r.PayloadFormatVersion != "2.0" {
			t.Errorf("%s: payload format %q", r.RouteKey(), r.PayloadFormatVersion)
		}
		if refTarget(r.ApiId) != "HttpApi" {
			t.Errorf("%s: ApiId %v", r.RouteKey(), r.ApiId)
		}
		got[r.RouteKey()] = r.Function
	}
	want := map[string]string{
		"POST /v1/organizations":                   "ConnectFunction",
		"POST /v1/auth/codes":                      "AuthFunction",
		"POST /v1/auth/codes/verify":               "AuthFunction",
		"POST /v1/auth/password":                   "AuthFunction",
		"POST /v1/auth/sessions":                   "AuthFunction",
		"POST /v1/auth/sessions/refresh":           "AuthFunction",
		"GET /v1/me":                               "AccountFunction",
		"GET /v1/organization/api-keys":            "AccountFunction",
		"POST /v1/organization/api-keys":           "AccountFunction",
		"DELETE /v1/organization/api-keys/{keyId}": "AccountFunction",
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("route %s -> %q, want %q", k, got[k], v)
		}
	}
	if len(got) < len(want) {
		t.Errorf("got %d routes, want at least %d", len(got), len(want))
	}
}

func TestRealTemplateFunctions(t *testing.T) {
	tmpl := loadReal(t)
	if len(tmpl.Functions) < 4 {
		t.Fatalf("functions: %d", len(tmpl.Functions))
	}
	for _, f := range tmpl.Functions {
		if f.Runtime != "provided.al2023" || f.Handler != "bootstrap" || f.BuildMethod != "makefile" {
			t.Errorf("%s: runtime %q handler %q build %q", f.LogicalID, f.Runtime, f.Handler, f.BuildMethod)
		}
		if !reflect.DeepEqual(f.Architectures, []string{"arm64"}) {
			t.Errorf("%s: architectures %v", f.LogicalID, f.Architectures)
		}
		if refTarget(f.Environment["TABLE_NAME"]) != "Table" {
			t.Errorf("%s: TABLE_NAME not merged from Globals: %v", f.LogicalID, f.Environment)
		}
	}
	auth, ok := tmpl.Function("AuthFunction")
	if !ok || auth.MemorySize != 1024 || auth.Timeout != 10 {
		t.Errorf("AuthFunction: %+v", auth)
	}
	n, _ := tmpl.Function("NotifierFunction")
	if n.Timeout != 30 || n.MemorySize != 256 {
		t.Errorf("NotifierFunction timeout %d memory %d", n.Timeout, n.MemorySize)
	}
	var sqsEv *SQSEvent
	for _, e := range n.Events {
		if e.SQS != nil {
			sqsEv = e.SQS
		}
	}
	if sqsEv == nil {
		t.Fatal("NotifierFunction has no SQS event")
	}
	if !sqsEv.ReportsBatchItemFailures() || sqsEv.BatchSize != 10 || sqsEv.MaximumBatchingWindowInSeconds != 1 || sqsEv.MaximumConcurrency != 5 {
		t.Errorf("SQS event: %+v", sqsEv)
	}
	if sqsEv.QueueLogicalID() != "NotificationsQueue" {
		t.Errorf("SQS queue: %v", sqsEv.Queue)
	}
}

func TestRealTemplateResources(t *testing.T) {
	tmpl := loadReal(t)
	if len(tmpl.Tables()) != 1 || tmpl.Tables()[0].LogicalID != "Table" {
		t.Errorf("tables: %+v", tmpl.Tables())
	}
	q, ok := tmpl.Resource("NotificationsQueue")
	if !ok {
		t.Fatal("no NotificationsQueue")
	}
	rp, _ := q.Properties["RedrivePolicy"].(map[string]any)
	if refTarget(rp["deadLetterTargetArn"]) != "NotificationsDeadLetterQueue" || intOf(rp["maxReceiveCount"]) != 5 {
		t.Errorf("redrive: %v", rp)
	}
	// The token keys, the pepper and the operator token are secrets, not parameters.
	for _, name := range []string{"TokenSigningKey", "CodePepper", "OperatorToken"} {
		if _, ok := tmpl.Parameter(name); ok {
			t.Errorf("%s is still a parameter", name)
		}
	}
	if len(tmpl.Secrets()) != 4 {
		t.Errorf("secrets: %v", tmpl.Secrets())
	}
	if p, _ := tmpl.Parameter("CodesPerHourLimit"); p.Default != "1000" || p.Type != "Number" {
		t.Errorf("CodesPerHourLimit: %+v", p)
	}
	if len(tmpl.EmailIdentities()) != 1 {
		t.Errorf("email identities: %v", tmpl.EmailIdentities())
	}
}

func TestResolverRealTemplate(t *testing.T) {
	tmpl := loadReal(t)
	r, err := NewResolver(tmpl, ResolverOptions{Region: "us-east-1", Parameters: map[string]string{}})
	if err != nil {
		t.Fatal(err)
	}
	cases := map[string]string{}
	o, _ := tmpl.Output("ApiUrl")
	cases["ApiUrl"] = mustResolve(t, r, o.Value)
	o, _ = tmpl.Output("TableName")
	cases["TableName"] = mustResolve(t, r, o.Value)
	o, _ = tmpl.Output("NotificationsQueueUrl")
	cases["QueueUrl"] = mustResolve(t, r, o.Value)
	want := map[string]string{
		"ApiUrl":    "https://httpapi.execute-api.us-east-1.amazonaws.com",
		"TableName": "Table",
		"QueueUrl":  "https://sqs.us-east-1.amazonaws.com/123456789012/NotificationsQueue",
	}
	if !reflect.DeepEqual(cases, want) {
		t.Errorf("got %v\nwant %v", cases, want)
	}
	n, _ := tmpl.Function("NotifierFunction")
	env, err := r.ResolveMap(n.Environment)
	if err != nil {
		t.Fatal(err)
	}
	if env["SENDER_EMAIL"] != "no-reply@kabinet.example" || env["TABLE_NAME"] != "Table" {
		t.Errorf("notifier env: %v", env)
	}
	a, _ := tmpl.Function("AuthFunction")
	env, err = r.ResolveMap(a.Environment)
	if err != nil {
		t.Fatal(err)
	}
	if env["TOKEN_SIGNING_KEYS_SECRET_ARN"] != "arn:aws:secretsmanager:us-east-1:123456789012:secret:TokenSigningKeys" || env["CODES_PER_HOUR_LIMIT"] != "1000" || env["ALLOW_NON_RUSSIAN_PHONES"] != "false" {
		t.Errorf("auth env: %v", env)
	}
	// A parameter without a default is an error, unless generated.
	bare, err := Parse([]byte("Parameters:\n  Pepper:\n    Type: String\n    NoEcho: true\nResources: {}\n"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := NewResolver(bare, ResolverOptions{}); err == nil || !strings.Contains(err.Error(), "Pepper") {
		t.Errorf("missing parameters: err %v", err)
	}
	r2, err := NewResolver(bare, ResolverOptions{GenerateMissing: true})
	if err != nil {
		t.Fatal(err)
	}
	if k := r2.Parameters()["Pepper"]; len(k) != 48 {
		t.Errorf("generated secret %q", k)
	}
}

func mustResolve(t *testing.T, r *Resolver, v any) string {
	t.Helper()
	s, err := r.Resolve(v)
	if err != nil {
		t.Fatalf("resolve %v: %v", v, err)
	}
	return s
}

const fixture = `
Parameters:
  Env:
    Type: String
    Default: dev
  Names:
    Type: CommaDelimitedList
    Default: "a,b,c"
Conditions:
  IsProd: !Equals [!Ref Env, prod]
  NotProd: !Not [!Condition IsProd]
Globals:
  Function:
    Timeout: 5
    Environment:
      Variables:
        A: global
        B: global
Resources:
  Q:
    Type: AWS::SQS::Queue
    Properties:
      QueueName: !Sub "${Env}-q"
  Fifo:
    Type: AWS::SQS::Queue
    Properties:
      FifoQueue: true
  Fn:
    Type: AWS::Serverless::Function
    Properties:
      Timeout: 7
      Environment:
        Variables:
          B: own
          ARN: !GetAtt [Q, Arn]
          NAME: !GetAtt Q.QueueName
          SUB: !Sub ["${X}-${AWS::AccountId}-${!Literal}-${Q.Arn}", {X: !Ref Env}]
          JOIN: !Join [":", [a, !Ref "AWS::Partition", !Select [1, !Ref Names]]]
          IF: !If [IsProd, yes, no]
          IF2: !If [NotProd, yes, no]
          SPLIT: !Select [2, !Split ["/", "x/y/z"]]
          LONG: {"Fn::GetAtt": "Q.Arn"}
          LONGSUB: {"Fn::Sub": "${AWS::Region}.${AWS::URLSuffix}"}
          GONE: !If [IsProd, x, !Ref "AWS::NoValue"]
      Events:
        Tick:
          Type: ScheduleV2
          Properties:
            ScheduleExpression: rate(5 minutes)
            Input: '{"k":1}'
        Any:
          Type: HttpApi
`

func TestFixtureIntrinsics(t *testing.T) {
	tmpl, err := Parse([]byte(fixture))
	if err != nil {
		t.Fatal(err)
	}
	r, err := NewResolver(tmpl, ResolverOptions{Region: "eu-west-1"})
	if err != nil {
		t.Fatal(err)
	}
	f, _ := tmpl.Function("Fn")
	if f.Timeout != 7 || f.MemorySize != 128 {
		t.Errorf("timeout %d memory %d", f.Timeout, f.MemorySize)
	}
	env, err := r.ResolveMap(f.Environment)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"A":       "global",
		"B":       "own",
		"ARN":     "arn:aws:sqs:eu-west-1:123456789012:dev-q",
		"NAME":    "dev-q",
		"SUB":     "dev-123456789012-${Literal}-arn:aws:sqs:eu-west-1:123456789012:dev-q",
		"JOIN":    "a:aws:b",
		"IF":      "no",
		"IF2":     "yes",
		"SPLIT":   "z",
		"LONG":    "arn:aws:sqs:eu-west-1:123456789012:dev-q",
		"LONGSUB": "eu-west-1.amazonaws.com",
	}
	if !reflect.DeepEqual(env, want) {
		t.Errorf("got  %v\nwant %v", env, want)
	}
	if n, _ := r.PhysicalName("Fifo"); n != "Fifo.fifo" {
		t.Errorf("fifo name %q", n)
	}
	if len(f.Events) != 2 || f.Events[0].ScheduleV2 == nil || f.Events[0].ScheduleV2.ScheduleExpression != "rate(5 minutes)" ||
		f.Events[0].ScheduleV2.Input != `{"k":1}` || f.Events[0].ScheduleV2.State != "ENABLED" {
		t.Errorf("schedule event: %+v", f.Events[0].ScheduleV2)
	}
	if h := f.Events[1].HttpApi; h == nil || h.RouteKey() != "$default" {
		t.Errorf("default route: %+v", h)
	}
}

func TestPayloadFormatVersionDefaultsTo20(t *testing.T) {
	tmpl, err := Parse([]byte(`
Resources:
  Fn:
    Type: AWS::Serverless::Function
    Properties:
      Events:
        Implicit:
          Type: HttpApi
          Properties: {Method: GET, Path: /v1/a}
        Explicit:
          Type: HttpApi
          Properties: {Method: GET, Path: /v1/b, PayloadFormatVersion: "1.0"}
`))
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, r := range tmpl.Routes() {
		got[r.Path] = r.PayloadFormatVersion
	}
	if want := map[string]string{"/v1/a": "2.0", "/v1/b": "1.0"}; !reflect.DeepEqual(got, want) {
		t.Errorf("payload format versions %v, want %v", got, want)
	}
}

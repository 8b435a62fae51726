package main

import (
	"testing"

	"github.com/kabinet/kabinet/infra/samtemplate"
)

const sampleTemplate = `
Transform: AWS::Serverless-2016-10-31
Parameters:
  Secret:
    Type: String
    NoEcho: true
  Domain:
    Type: String
    Default: example.org
  Limit:
    Type: Number
    Default: 42
Globals:
  Function:
    MemorySize: 256
    LoggingConfig:
      LogFormat: JSON
      ApplicationLogLevel: INFO
    Environment:
      Variables:
        TABLE_NAME: !Ref Table
Resources:
  Table:
    Type: AWS::DynamoDB::Table
  Queue:
    Type: AWS::SQS::Queue
  ZedFunction:
    Type: AWS::Serverless::Function
    Properties:
      MemorySize: 1024
      Environment:
        Variables:
          QUEUE_URL: !Ref Queue
          SECRET: !Ref Secret
          LIMIT: !Ref Limit
          FROM: !Sub "no-reply@${Domain}"
          LONG_FORM: {Ref: Domain}
          PLAIN: "false"
          ARN: !GetAtt Queue.Arn
  NotAFunction:
    Type: AWS::Logs::LogGroup
  AlphaFunction:
    Type: AWS::Serverless::Function
    Properties:
      Environment:
        Variables:
          OTHER_SECRET: !Ref Secret
`

func TestFunctionsFromTemplate(t *testing.T) {
	tmpl, err := samtemplate.Parse([]byte(sampleTemplate))
	if err != nil {
		t.Fatal(err)
	}
	fns, err := functions(tmpl)
	if err != nil {
		t.Fatal(err)
	}
	if len(fns) != 2 || fns[0].LogicalID != "ZedFunction" || fns[1].LogicalID != "AlphaFunction" {
		t.Fatalf("functions = %+v, want ZedFunction then AlphaFunction (template order)", fns)
	}
	zed, alpha := fns[0], fns[1]
	if zed.MemorySize != 1024 || alpha.MemorySize != 256 {
		t.Errorf("memory = %d, %d; want the function's own 1024, then Globals' 256", zed.MemorySize, alpha.MemorySize)
	}
	want := map[string]string{
		"TABLE_NAME":            "Table",
		"QUEUE_URL":             "http://127.0.0.1:1/123456789012/Queue",
		"LIMIT":                 "42",
		"FROM":                  "no-reply@example.org",
		"LONG_FORM":             "example.org",
		"PLAIN":                 "false",
		"ARN":                   "arn:aws:sqs:us-east-1:123456789012:Queue",
		"AWS_LAMBDA_LOG_FORMAT": "JSON",
		"AWS_LAMBDA_LOG_LEVEL":  "INFO",
	}
	for k, v := range want {
		if zed.Env[k] != v {
			t.Errorf("ZedFunction %s = %q, want %q", k, zed.Env[k], v)
		}
	}
	if s := zed.Env["SECRET"]; len(s) != 48 {
		t.Errorf("SECRET = %q, want 48 random characters", s)
	}
	if zed.Env["SECRET"] != alpha.Env["OTHER_SECRET"] {
		t.Errorf("one parameter resolved to two values: %q, %q", zed.Env["SECRET"], alpha.Env["OTHER_SECRET"])
	}
	if alpha.Env["TABLE_NAME"] != "Table" {
		t.Errorf("AlphaFunction lost the Globals variable: %v", alpha.Env)
	}
}

func TestLambdaEnv(t *testing.T) {
	env := lambdaEnv("Fn", 512, map[string]string{"TABLE_NAME": "Table", "AWS_REGION": "eu-west-1"}, dummyEndpoint)
	for k, v := range map[string]string{
		"TABLE_NAME":                      "Table",
		"AWS_REGION":                      "us-east-1", // reserved variables win over the template's
		"AWS_LAMBDA_FUNCTION_NAME":        "Fn",
		"AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "512",
		"_HANDLER":                        "bootstrap",
		"AWS_ENDPOINT_URL":                "http://127.0.0.1:1",
	} {
		if env[k] != v {
			t.Errorf("env %s = %q, want %q", k, env[k], v)
		}
	}
	if _, ok := env["HOME"]; ok {
		t.Error("env inherits HOME from the bench")
	}
}

// -functions keeps the named functions in the order given, all of them when
// empty, and refuses a name the template does not have.
func TestSelectFunctions(t *testing.T) {
	fns := []function{{LogicalID: "AuthFunction"}, {LogicalID: "ConnectFunction"}, {LogicalID: "AccountFunction"}}
	if got, err := selectFunctions(fns, ""); err != nil || len(got) != 3 {
		t.Fatalf(`selectFunctions("") = %v, %v; want all 3`, got, err)
	}
	got, err := selectFunctions(fns, "AccountFunction, AuthFunction")
	if err != nil || len(got) != 2 || got[0].LogicalID != "AccountFunction" || got[1].LogicalID != "AuthFunction" {
		t.Fatalf("selectFunctions = %v, %v; want AccountFunction, AuthFunction", got, err)
	}
	if _, err := selectFunctions(fns, "AuthFunction,Nope"); err == nil {
		t.Fatal("an unknown function was accepted")
	}
}

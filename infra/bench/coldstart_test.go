package main

import (
	"fmt"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
)

// The test binary doubles as a fake bootstrap: run with BENCH_TEST_BOOTSTRAP
// set, it behaves as the variable says instead of running tests. This tests
// coldStart (lambdart) against aws-lambda-go's real Runtime API client without building
// anything.
func TestMain(m *testing.M) {
	switch os.Getenv("BENCH_TEST_BOOTSTRAP") {
	case "":
		os.Exit(m.Run())
	case "lambda":
		lambda.Start(func() (string, error) { return "hello", nil })
	case "crash":
		fmt.Fprintln(os.Stderr, "missing TABLE_NAME")
		os.Exit(3)
	case "exit-after-next":
		// Takes its invocation, then dies without answering it.
		resp, err := http.Get("http://" + os.Getenv("AWS_LAMBDA_RUNTIME_API") + "/2018-06-01/runtime/invocation/next")
		if err == nil {
			resp.Body.Close()
		}
		os.Exit(2)
	case "init-error":
		// What a runtime does when its init fails without exiting.
		url := "http://" + os.Getenv("AWS_LAMBDA_RUNTIME_API") + "/2018-06-01/runtime/init/error"
		resp, err := http.Post(url, "application/json", strings.NewReader(`{"errorMessage":"bad config"}`))
		if err == nil {
			resp.Body.Close()
		}
		time.Sleep(time.Minute) // killed by coldStart
	}
	os.Exit(0)
}

func helperEnv(mode string) map[string]string {
	return map[string]string{"BENCH_TEST_BOOTSTRAP": mode}
}

func testExecutable(t *testing.T) string {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	return exe
}

func TestColdStartOfALambdaProcess(t *testing.T) {
	res, err := coldStart(testExecutable(t), helperEnv("lambda"))
	if err != nil {
		t.Fatal(err)
	}
	if res.Init <= 0 || res.Init > initTimeout {
		t.Errorf("init = %v, want a positive duration under %v", res.Init, initTimeout)
	}
	if !res.Answered {
		t.Error("the process did not answer its invocation")
	}
}

func TestColdStartReportsFailures(t *testing.T) {
	for mode, want := range map[string]string{
		"crash":      "missing TABLE_NAME",
		"init-error": "bad config",
	} {
		_, err := coldStart(testExecutable(t), helperEnv(mode))
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: err = %v, want it to mention %q", mode, err, want)
		}
	}
}

func TestColdStartCountsAnUnansweredInvocation(t *testing.T) {
	res, err := coldStart(testExecutable(t), helperEnv("exit-after-next"))
	if err != nil {
		t.Fatalf("err = %v; a process that reached /next has a valid cold start", err)
	}
	if res.Init <= 0 || res.Answered {
		t.Errorf("result = %+v, want a positive init and Answered false", res)
	}
}

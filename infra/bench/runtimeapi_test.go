package main

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
)

// The test binary doubles as a fake bootstrap: run with BENCH_TEST_BOOTSTRAP
// set, it behaves as the variable says instead of running tests. This tests
// coldStart against aws-lambda-go's real Runtime API client without building
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

func helperEnv(mode string) []string {
	return []string{"BENCH_TEST_BOOTSTRAP=" + mode}
}

func testExecutable(t *testing.T) string {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	return exe
}

func TestRuntimeAPIRecordsFirstNext(t *testing.T) {
	api, err := startRuntimeAPI()
	if err != nil {
		t.Fatal(err)
	}
	defer api.Close()
	base := "http://" + api.Addr + "/2018-06-01/runtime/"

	before := time.Now()
	resp, err := http.Get(base + "invocation/next")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || string(body) != event {
		t.Fatalf("first /next = %d %q, want 200 %q", resp.StatusCode, body, event)
	}
	for _, h := range []string{"Lambda-Runtime-Aws-Request-Id", "Lambda-Runtime-Deadline-Ms", "Lambda-Runtime-Invoked-Function-Arn"} {
		if resp.Header.Get(h) == "" {
			t.Errorf("first /next lacks header %s", h)
		}
	}
	select {
	case at := <-api.firstNext:
		if at.Before(before) || at.After(time.Now()) {
			t.Errorf("first /next recorded at %v, outside the request", at)
		}
	default:
		t.Fatal("first /next not recorded")
	}

	resp, err = http.Post(base+"invocation/"+requestID+"/response", "application/json", strings.NewReader(`"hello"`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusAccepted {
		t.Errorf("response POST = %d, want 202", resp.StatusCode)
	}
	select {
	case got := <-api.invocation:
		if got != "response" {
			t.Errorf("invocation outcome = %q, want response", got)
		}
	default:
		t.Fatal("response not recorded")
	}

	// A second /next is parked, as Lambda parks an idle function, until
	// the server closes.
	parked := make(chan error, 1)
	go func() {
		resp, err := http.Get(base + "invocation/next")
		if err == nil {
			resp.Body.Close()
		}
		parked <- err
	}()
	select {
	case <-parked:
		t.Fatal("second /next answered; it should wait")
	case <-time.After(100 * time.Millisecond):
	}
	api.Close()
	select {
	case <-parked:
	case <-time.After(5 * time.Second):
		t.Fatal("second /next still parked after Close")
	}
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

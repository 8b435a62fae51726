package main

import (
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestSDKClientsOfTheBaselineAndTheNotifier(t *testing.T) {
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	notifier := functionPackage("NotifierFunction")
	got, err := sdkClients(root, []string{"./infra/bench/baselines/hello", "./infra/bench/baselines/sdkhello", notifier})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string][]string{
		"./infra/bench/baselines/hello":    {},
		"./infra/bench/baselines/sdkhello": {"dynamodb", "sqs"},
		notifier:                           {"dynamodb", "sesv2", "sns", "sqs"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("clients = %v, want %v", got, want)
	}
	if d := clientsDiff(got[notifier], got["./infra/bench/baselines/sdkhello"]); d != "+sesv2, +sns" {
		t.Errorf("notifier vs sdkhello = %q", d)
	}
}

func TestClientsDiff(t *testing.T) {
	base := []string{"dynamodb", "sqs"}
	for fn, want := range map[string]string{
		"dynamodb sqs":           "same",
		"dynamodb":               "-sqs",
		"dynamodb sesv2 sns sqs": "+sesv2, +sns",
	} {
		if got := clientsDiff(strings.Fields(fn), base); got != want {
			t.Errorf("%s: %q, want %q", fn, got, want)
		}
	}
}

package platform

import (
	"bytes"
	"context"
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"
)

// TestEMFLineHasTheEmbeddedMetricFormatShape decodes the line and compares it
// member by member with what the EMF specification requires: a root "_aws"
// with a millisecond Timestamp and one directive naming the namespace, the
// dimension set and the metric; the dimension and the value as root members.
func TestEMFLineHasTheEmbeddedMetricFormatShape(t *testing.T) {
	var buf bytes.Buffer
	e := NewEMF(&buf, "Kabinet", map[string]string{"Stage": "dev", "FunctionName": "kabinet-dev-AuthFunction-1"},
		[]string{"Stage"}, []string{"Stage", "FunctionName"})
	at := time.Date(2026, 12, 3, 17, 0, 0, 123e6, time.UTC)
	e.now = func() time.Time { return at }

	e.Count(context.Background(), "CodesSent", 2)

	lines := strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n")
	if len(lines) != 1 {
		t.Fatalf("%d lines, want one: %q", len(lines), buf.String())
	}
	var got map[string]any
	if err := json.Unmarshal([]byte(lines[0]), &got); err != nil {
		t.Fatalf("not JSON: %v: %s", err, lines[0])
	}
	wantAWS := map[string]any{
		"Timestamp": float64(at.UnixMilli()),
		"CloudWatchMetrics": []any{map[string]any{
			"Namespace":  "Kabinet",
			"Dimensions": []any{[]any{"Stage"}, []any{"Stage", "FunctionName"}},
			"Metrics":    []any{map[string]any{"Name": "CodesSent", "Unit": "Count"}},
		}},
	}
	if !reflect.DeepEqual(got["_aws"], wantAWS) {
		t.Errorf("_aws = %#v\nwant %#v", got["_aws"], wantAWS)
	}
	if got["CodesSent"] != float64(2) || got["FunctionName"] != "kabinet-dev-AuthFunction-1" || got["Stage"] != "dev" {
		t.Errorf("value or dimension missing at the root: %s", lines[0])
	}
	// The line is a normal log line too: Lambda's JSON level filter keeps INFO.
	if got["level"] != "INFO" || got["msg"] != "metric" {
		t.Errorf("level %v msg %v", got["level"], got["msg"])
	}
	// Every dimension a directive names must be a root member, or CloudWatch
	// rejects the whole line.
	for _, set := range wantAWS["CloudWatchMetrics"].([]any)[0].(map[string]any)["Dimensions"].([]any) {
		for _, d := range set.([]any) {
			if _, ok := got[d.(string)]; !ok {
				t.Errorf("dimension %v is not a root member", d)
			}
		}
	}
}

// Without explicit sets, all dimensions form one set, in a stable order.
func TestEMFDimensionsAreSortedAndNothingIsWrittenForZero(t *testing.T) {
	var buf bytes.Buffer
	e := NewEMF(&buf, "Kabinet", map[string]string{"b": "2", "a": "1"})
	e.Count(context.Background(), "SMSFailed", 0)
	e.Count(context.Background(), "SMSFailed", -1)
	if buf.Len() != 0 {
		t.Fatalf("a zero count wrote %q", buf.String())
	}
	e.Count(context.Background(), "SMSFailed", 1)
	var got struct {
		AWS struct {
			CloudWatchMetrics []struct{ Dimensions [][]string }
		} `json:"_aws"`
	}
	if err := json.Unmarshal(buf.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	if d := got.AWS.CloudWatchMetrics[0].Dimensions; !reflect.DeepEqual(d, [][]string{{"a", "b"}}) {
		t.Errorf("dimensions %v", d)
	}
}

type recorder map[string]int

func (r recorder) Count(_ context.Context, name string, n int) { r[name] += n }

func TestCountGoesToTheInstalledMetricsAndToNothingByDefault(t *testing.T) {
	t.Cleanup(func() { SetMetrics(nil) })
	ctx := context.Background()
	Count(ctx, "CodesSent", 1) // the default records nothing and must not panic

	r := recorder{}
	SetMetrics(r)
	Count(ctx, "CodesSent", 1)
	Count(ctx, "CodesSent", 2)
	if r["CodesSent"] != 3 {
		t.Errorf("counted %v", r)
	}
	SetMetrics(nil)
	Count(ctx, "CodesSent", 5)
	if r["CodesSent"] != 3 {
		t.Errorf("counted after SetMetrics(nil): %v", r)
	}
}

package platform

import (
	"context"
	"io"
	"log/slog"
	"sort"
	"sync/atomic"
	"time"
)

// MetricsNamespace is the CloudWatch namespace of Kabinet's own metrics; the
// dashboard and the alarms of template.yaml read them from there.
const MetricsNamespace = "Kabinet"

// Metrics counts business events (codes sent, SMS failed, limiter trips...).
// Use cases and adapters call Count; which implementation runs is decided
// once, in the composition root, like the default logger.
type Metrics interface {
	// Count adds n to the metric name; n <= 0 records nothing.
	Count(ctx context.Context, name string, n int)
}

type metricsBox struct{ m Metrics }

var ambient atomic.Pointer[metricsBox]

// SetMetrics makes m the metrics every Count call goes to (nil restores the
// default, which records nothing, so that tests and tools are not flooded
// with metric lines). Functions set it at init; it is ambient
// like slog.Default so that counting an event is one line where it happens,
// without a port threaded through every constructor.
func SetMetrics(m Metrics) {
	if m == nil {
		ambient.Store(nil)
		return
	}
	ambient.Store(&metricsBox{m})
}

// Count adds n to the metric name through the metrics SetMetrics installed.
func Count(ctx context.Context, name string, n int) {
	if b := ambient.Load(); b != nil {
		b.m.Count(ctx, name, n)
	}
}

// EMF writes each count as one JSON log line in CloudWatch's embedded metric
// format: CloudWatch Logs extracts the metric from the function's log stream,
// so a count costs no API call and no latency. The line is written by a slog
// JSON handler, so it also carries time, level and msg like every other log
// line (extra fields are allowed by the format) and passes Lambda's JSON log
// level filter at INFO.
type EMF struct {
	log        *slog.Logger
	namespace  string
	sets       [][]string
	dimensions []slog.Attr
	// now gives the metric's timestamp; CloudWatch drops metrics stamped more
	// than two weeks in the past or two hours in the future, so it is the
	// real time, never a test clock or the local runner's shifted one.
	now func() time.Time
}

// NewEMF returns an EMF writer to w in namespace. dimensions are written on
// every line; sets are the dimension sets CloudWatch makes a metric of
// (each name must be a key of dimensions), e.g. {"Stage"} for the stack's
// total and {"Stage", "FunctionName"} for one function's share. Without
// sets, all dimensions form one set.
func NewEMF(w io.Writer, namespace string, dimensions map[string]string, sets ...[]string) *EMF {
	e := &EMF{
		log:       slog.New(slog.NewJSONHandler(w, nil)),
		namespace: namespace,
		sets:      sets,
		now:       time.Now,
	}
	names := make([]string, 0, len(dimensions))
	for k := range dimensions {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		e.dimensions = append(e.dimensions, slog.String(k, dimensions[k]))
	}
	if len(e.sets) == 0 {
		e.sets = [][]string{names}
	}
	return e
}

// Count writes one EMF line giving name the value n (unit Count).
func (e *EMF) Count(ctx context.Context, name string, n int) {
	if n <= 0 {
		return
	}
	attrs := make([]slog.Attr, 0, 2+len(e.dimensions))
	attrs = append(attrs, slog.Any("_aws", emfMeta{
		Timestamp: e.now().UnixMilli(),
		CloudWatchMetrics: []emfDirective{{
			Namespace:  e.namespace,
			Dimensions: e.sets,
			Metrics:    []emfMetric{{Name: name, Unit: "Count"}},
		}},
	}))
	attrs = append(attrs, e.dimensions...)
	attrs = append(attrs, slog.Int(name, n))
	e.log.LogAttrs(ctx, slog.LevelInfo, "metric", attrs...)
}

// emfMeta is the "_aws" member of an EMF line, as the specification names it
// (https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Embedded_Metric_Format_Specification.html).
type emfMeta struct {
	Timestamp         int64          `json:"Timestamp"`
	CloudWatchMetrics []emfDirective `json:"CloudWatchMetrics"`
}

type emfDirective struct {
	Namespace  string      `json:"Namespace"`
	Dimensions [][]string  `json:"Dimensions"`
	Metrics    []emfMetric `json:"Metrics"`
}

type emfMetric struct {
	Name string `json:"Name"`
	Unit string `json:"Unit"`
}

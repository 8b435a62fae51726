package templatecheck

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/kabinet/kabinet/infra/samtemplate"
	"github.com/kabinet/kabinet/infra/testenv"
	"github.com/kabinet/kabinet/shared/platform"
)

// The operations invariants of issue 14: every function is traced, keeps its
// logs for a set time and tells operators when it fails or is throttled;
// every alarm reaches someone; no scheduled run is dropped silently; the table
// cannot be deleted by accident and is backed up; and nothing deploys with a
// placeholder.

// refOf is the logical id v refers to by !Ref X, !GetAtt X.Attr or
// {"Fn::GetAtt": [X, Attr]}; "" for anything else.
func refOf(v any) string {
	m, ok := v.(map[string]any)
	if !ok || len(m) != 1 {
		return ""
	}
	if r, ok := m["Ref"].(string); ok {
		return r
	}
	switch a := m["Fn::GetAtt"].(type) {
	case string:
		id, _, _ := strings.Cut(a, ".")
		return id
	case []any:
		if len(a) > 0 {
			s, _ := a[0].(string)
			return s
		}
	}
	return ""
}

// prop returns the function's own property, else Globals.Function's.
func prop(tmpl *samtemplate.Template, fn samtemplate.Function, name string) any {
	if v, ok := fn.Properties[name]; ok {
		return v
	}
	return tmpl.Globals.Function.Raw[name]
}

func resourcesOfType(tmpl *samtemplate.Template, typ string) []samtemplate.Resource {
	var out []samtemplate.Resource
	for _, r := range tmpl.Resources {
		if r.Type == typ {
			out = append(out, r)
		}
	}
	return out
}

// alarmOn finds an alarm on namespace/metric whose dimension dim refers to id.
func alarmOn(tmpl *samtemplate.Template, namespace, metric, dim, id string) (samtemplate.Resource, bool) {
	for _, a := range resourcesOfType(tmpl, "AWS::CloudWatch::Alarm") {
		if scalar(a.Properties["Namespace"]) != namespace || scalar(a.Properties["MetricName"]) != metric {
			continue
		}
		dims, _ := a.Properties["Dimensions"].([]any)
		for _, d := range dims {
			dm, _ := d.(map[string]any)
			if scalar(dm["Name"]) == dim && refOf(dm["Value"]) == id {
				return a, true
			}
		}
	}
	return samtemplate.Resource{}, false
}

// checkRetention fails unless the log group id exists and has a retention.
func checkRetention(t *testing.T, tmpl *samtemplate.Template, owner, id string) {
	t.Helper()
	lg, ok := tmpl.Resource(id)
	if !ok || lg.Type != "AWS::Logs::LogGroup" {
		t.Errorf("%s: log group %q is not an AWS::Logs::LogGroup of the template", owner, id)
		return
	}
	if ret := lg.Properties["RetentionInDays"]; refOf(ret) != "LogRetentionDays" && scalar(ret) == "" {
		t.Errorf("%s: log group %s has no RetentionInDays (it would never expire)", owner, id)
	}
}

func TestEveryFunctionHasLogRetentionTracingAndAlarms(t *testing.T) {
	tmpl := load(t)
	if len(tmpl.Functions) == 0 {
		t.Fatal("no functions")
	}
	globalLogging, _ := tmpl.Globals.Function.Raw["LoggingConfig"].(map[string]any)
	if globalLogging["LogGroup"] != nil {
		t.Error("Globals name one log group for every function; each function needs its own")
	}
	for _, fn := range tmpl.Functions {
		if tr := scalar(prop(tmpl, fn, "Tracing")); tr != "Active" {
			t.Errorf("%s: Tracing %q, want Active", fn.LogicalID, tr)
		}
		logging, _ := fn.Properties["LoggingConfig"].(map[string]any)
		if id := refOf(logging["LogGroup"]); id == "" {
			t.Errorf("%s: LoggingConfig.LogGroup does not name a log group of the template, so Lambda makes one that never expires", fn.LogicalID)
		} else {
			checkRetention(t, tmpl, fn.LogicalID, id)
		}
		for _, metric := range []string{"Errors", "Throttles"} {
			if _, ok := alarmOn(tmpl, "AWS/Lambda", metric, "FunctionName", fn.LogicalID); !ok {
				t.Errorf("%s: no alarm on AWS/Lambda %s", fn.LogicalID, metric)
			}
		}
	}
	for _, lg := range resourcesOfType(tmpl, "AWS::Logs::LogGroup") {
		checkRetention(t, tmpl, "template", lg.LogicalID)
	}
	api, ok := tmpl.Resource("HttpApi")
	if !ok {
		t.Fatal("no HttpApi")
	}
	als, _ := api.Properties["AccessLogSettings"].(map[string]any)
	checkRetention(t, tmpl, "HttpApi access log", refOf(als["DestinationArn"]))
}

func TestEveryAlarmNotifiesTheOperatorsTopic(t *testing.T) {
	tmpl := load(t)
	alarms := resourcesOfType(tmpl, "AWS::CloudWatch::Alarm")
	if len(alarms) == 0 {
		t.Fatal("no alarms")
	}
	for _, a := range alarms {
		actions, _ := a.Properties["AlarmActions"].([]any)
		notifies := false
		for _, act := range actions {
			if r, ok := tmpl.Resource(refOf(act)); ok && r.Type == "AWS::SNS::Topic" {
				notifies = true
			}
		}
		if !notifies {
			t.Errorf("alarm %s has no AlarmActions to an SNS topic of the template: nobody would be told", a.LogicalID)
		}
	}
	// The alarms issue 14 asks for, beside the per-function ones.
	for _, want := range []struct{ namespace, metric string }{
		{"AWS/SQS", "ApproximateAgeOfOldestMessage"},
		{"AWS/SES", "Reputation.BounceRate"},
		{"AWS/SES", "Reputation.ComplaintRate"},
		{"AWS/SNS", "SMSMonthToDateSpentUSD"},
	} {
		if !hasAlarm(alarms, want.namespace, want.metric) {
			t.Errorf("no alarm on %s %s", want.namespace, want.metric)
		}
	}
	for _, want := range []struct{ namespace, metric string }{
		{"AWS/ApiGateway", "5xx"},
		{"AWS/DynamoDB", "WriteThrottleEvents"},
		{"AWS/DynamoDB", "ReadThrottleEvents"},
	} {
		if !hasMathAlarm(alarms, want.namespace, want.metric) {
			t.Errorf("no alarm on %s %s", want.namespace, want.metric)
		}
	}
	subs := resourcesOfType(tmpl, "AWS::SNS::Subscription")
	if len(subs) == 0 || subs[0].Condition == "" || refOf(subs[0].Properties["Endpoint"]) != "OperatorEmail" {
		t.Errorf("want an e-mail subscription to OperatorEmail under a condition (none when it is empty): %+v", subs)
	}
}

func hasAlarm(alarms []samtemplate.Resource, namespace, metric string) bool {
	for _, a := range alarms {
		if scalar(a.Properties["Namespace"]) == namespace && scalar(a.Properties["MetricName"]) == metric {
			return true
		}
	}
	return false
}

// hasMathAlarm finds an alarm with a metric math query reading namespace/metric.
func hasMathAlarm(alarms []samtemplate.Resource, namespace, metric string) bool {
	for _, a := range alarms {
		queries, _ := a.Properties["Metrics"].([]any)
		for _, q := range queries {
			qm, _ := q.(map[string]any)
			stat, _ := qm["MetricStat"].(map[string]any)
			m, _ := stat["Metric"].(map[string]any)
			if scalar(m["Namespace"]) == namespace && scalar(m["MetricName"]) == metric {
				return true
			}
		}
	}
	return false
}

func TestEveryScheduledJobHasADeadLetterQueueWithAnAlarm(t *testing.T) {
	tmpl := load(t)
	jobs := 0
	for _, fn := range tmpl.Functions {
		scheduled := false
		for _, ev := range fn.Events {
			if ev.Type != "Schedule" && ev.Type != "ScheduleV2" {
				continue
			}
			scheduled = true
			dlc, _ := ev.Properties["DeadLetterConfig"].(map[string]any)
			if q := refOf(dlc["Arn"]); q == "" && scalar(dlc["Type"]) != "SQS" {
				t.Errorf("%s/%s: no DeadLetterConfig: a run the scheduler cannot start is dropped silently", fn.LogicalID, ev.Name)
			} else if q != "" {
				checkQueueAlarmed(t, tmpl, fn.LogicalID+"/"+ev.Name, q)
			}
			// A fixed schedule name collides with another stack's.
			if ev.Type == "ScheduleV2" && scalar(ev.Properties["OmitName"]) != "true" {
				t.Errorf("%s/%s: set OmitName so that two stacks in one account do not collide", fn.LogicalID, ev.Name)
			}
		}
		if !scheduled {
			continue
		}
		jobs++
		// The scheduler invokes asynchronously: a run that fails is retried by
		// Lambda and then dropped unless the function has a failure destination.
		eic, _ := fn.Properties["EventInvokeConfig"].(map[string]any)
		dc, _ := eic["DestinationConfig"].(map[string]any)
		onFailure, _ := dc["OnFailure"].(map[string]any)
		if q := refOf(onFailure["Destination"]); q == "" || scalar(onFailure["Type"]) != "SQS" {
			t.Errorf("%s: no EventInvokeConfig OnFailure SQS destination: a failed run is dropped silently", fn.LogicalID)
		} else {
			checkQueueAlarmed(t, tmpl, fn.LogicalID+" OnFailure", q)
		}
	}
	if jobs == 0 {
		t.Fatal("no scheduled function")
	}
}

func checkQueueAlarmed(t *testing.T, tmpl *samtemplate.Template, owner, queue string) {
	t.Helper()
	if r, ok := tmpl.Resource(queue); !ok || r.Type != samtemplate.TypeQueue {
		t.Errorf("%s: dead-letter target %q is not a queue of the template", owner, queue)
		return
	}
	if _, ok := alarmOn(tmpl, "AWS/SQS", "ApproximateNumberOfMessagesVisible", "QueueName", queue); !ok {
		t.Errorf("%s: dead-letter queue %s has no alarm on its messages", owner, queue)
	}
}

func TestTableHasDeletionProtectionAndBackups(t *testing.T) {
	tmpl := load(t)
	table := tmpl.Tables()[0]
	if scalar(table.Properties["DeletionProtectionEnabled"]) != "true" {
		t.Error("table lacks DeletionProtectionEnabled: true")
	}
	selected := false
	for _, sel := range resourcesOfType(tmpl, "AWS::Backup::BackupSelection") {
		bs, _ := sel.Properties["BackupSelection"].(map[string]any)
		res, _ := bs["Resources"].([]any)
		for _, r := range res {
			if refOf(r) == table.LogicalID {
				selected = true
			}
		}
		plan, ok := tmpl.Resource(refOf(sel.Properties["BackupPlanId"]))
		if !ok || plan.Type != "AWS::Backup::BackupPlan" {
			t.Errorf("backup selection %s names no backup plan of the template", sel.LogicalID)
			continue
		}
		bp, _ := plan.Properties["BackupPlan"].(map[string]any)
		rules, _ := bp["BackupPlanRule"].([]any)
		kept := map[string]string{} // schedule -> days kept
		for _, r := range rules {
			rm, _ := r.(map[string]any)
			lc, _ := rm["Lifecycle"].(map[string]any)
			kept[scalar(rm["ScheduleExpression"])] = scalar(lc["DeleteAfterDays"])
			if v, ok := tmpl.Resource(refOf(rm["TargetBackupVault"])); !ok || v.Type != "AWS::Backup::BackupVault" {
				t.Errorf("rule %v: no vault of the template", rm["RuleName"])
			}
		}
		// Daily (every day of the month) kept 35 days, monthly (one day of
		// the month) kept a year.
		var daily, monthly bool
		for sched, days := range kept {
			fields := strings.Fields(strings.TrimSuffix(strings.TrimPrefix(sched, "cron("), ")"))
			if len(fields) != 6 {
				t.Errorf("backup schedule %q is not a cron of 6 fields", sched)
				continue
			}
			daily = daily || (fields[2] == "*" && days == "35")
			monthly = monthly || (fields[2] != "*" && fields[2] != "?" && days == "365")
		}
		if !daily || !monthly {
			t.Errorf("backup plan %s: want a daily rule kept 35 days and a monthly one kept 365: %v", plan.LogicalID, kept)
		}
	}
	if !selected {
		t.Error("no backup selection names the table")
	}
}

func TestNoPlaceholderDefaultsAndStackUniqueNames(t *testing.T) {
	tmpl := load(t)
	for _, p := range tmpl.Parameters {
		if strings.Contains(strings.ToLower(p.Default), "example") {
			t.Errorf("parameter %s defaults to the placeholder %q: a deploy would succeed with it", p.Name, p.Default)
		}
	}
	for _, name := range []string{"Stage", "PublicBaseURL", "SenderDomain"} {
		if p, ok := tmpl.Parameter(name); !ok || p.HasDefault {
			t.Errorf("parameter %s must exist and be required (no Default)", name)
		}
	}
	// The local values only fill parameters a deployment must choose; one
	// that had a Default, or no longer exists, would be dead code.
	for name := range samtemplate.LocalParameters {
		if p, ok := tmpl.Parameter(name); !ok || p.HasDefault {
			t.Errorf("samtemplate.LocalParameters names %s, which is not a parameter without a Default", name)
		}
	}
	// One SES identity per domain, account and region: a second stack must
	// be able to share it.
	for _, id := range tmpl.EmailIdentities() {
		if id.Condition == "" {
			t.Errorf("e-mail identity %s is created unconditionally; two stacks in one account would collide", id.LogicalID)
		}
	}
	// Names that must be unique in the account and region carry the stage.
	for _, check := range []struct{ typ, path string }{
		{"AWS::CloudWatch::Dashboard", "DashboardName"},
		{"AWS::Backup::BackupVault", "BackupVaultName"},
		{"AWS::Backup::BackupPlan", "BackupPlan.BackupPlanName"},
	} {
		rs := resourcesOfType(tmpl, check.typ)
		if len(rs) == 0 {
			t.Errorf("no %s", check.typ)
		}
		for _, r := range rs {
			var v any = r.Properties
			for _, k := range strings.Split(check.path, ".") {
				m, _ := v.(map[string]any)
				v = m[k]
			}
			if !strings.Contains(fmt.Sprint(v), "${Stage}") {
				t.Errorf("%s %s = %v does not carry ${Stage}", r.LogicalID, check.path, v)
			}
		}
	}
}

// samconfig reads the parts of samconfig.toml the checks need: every
// `[env.command.parameters]` section's `key = "string"` entries (TOML escapes
// of quotes undone). It is not a TOML parser; the file uses nothing more.
func samconfig(t *testing.T) map[string]map[string]string {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(testenv.RepoRoot(), "samconfig.toml"))
	if err != nil {
		t.Fatal(err)
	}
	sections := map[string]map[string]string{}
	var cur map[string]string
	entry := regexp.MustCompile(`^(\w+)\s*=\s*"((?:[^"\\]|\\.)*)"\s*$`)
	for _, line := range strings.Split(string(raw), "\n") {
		line = strings.TrimSpace(line)
		switch {
		case strings.HasPrefix(line, "["):
			cur = map[string]string{}
			sections[strings.Trim(line, "[]")] = cur
		case cur != nil:
			if m := entry.FindStringSubmatch(line); m != nil {
				cur[m[1]] = strings.ReplaceAll(m[2], `\"`, `"`)
			}
		}
	}
	return sections
}

func TestSamconfigEnvironmentsDeployTheirStage(t *testing.T) {
	tmpl := load(t)
	cfg := samconfig(t)
	override := regexp.MustCompile(`(\w+)="([^"]*)"`)
	for _, env := range []string{"dev", "prod"} {
		deploy, ok := cfg[env+".deploy.parameters"]
		if !ok {
			t.Errorf("samconfig.toml has no [%s.deploy.parameters]", env)
			continue
		}
		if !strings.Contains(deploy["stack_name"], env) {
			t.Errorf("%s: stack_name %q does not name the environment", env, deploy["stack_name"])
		}
		if !strings.Contains(deploy["capabilities"], "CAPABILITY_IAM") {
			t.Errorf("%s: capabilities %q lack CAPABILITY_IAM (the functions' roles)", env, deploy["capabilities"])
		}
		values := map[string]string{}
		for _, m := range override.FindAllStringSubmatch(deploy["parameter_overrides"], -1) {
			values[m[1]] = m[2]
		}
		if values["Stage"] != env {
			t.Errorf("%s: Stage override %q", env, values["Stage"])
		}
		for name, v := range values {
			p, ok := tmpl.Parameter(name)
			switch {
			case !ok:
				t.Errorf("%s: override of unknown parameter %s", env, name)
			case p.NoEcho:
				t.Errorf("%s: secret parameter %s is written in samconfig.toml", env, name)
			case strings.Contains(strings.ToLower(v), "example"):
				t.Errorf("%s: %s=%q is a placeholder", env, name, v)
			}
		}
	}
}

// The dashboard body is JSON only once CloudFormation substitutes it, so a
// stray comma would surface at deploy time; this resolves it as the local
// environment would and decodes it. Every custom metric it draws must be one
// the code counts, or its line stays empty forever.
func TestDashboardIsValidJSONAndDrawsMetricsTheCodeCounts(t *testing.T) {
	tmpl := load(t)
	dashboards := resourcesOfType(tmpl, "AWS::CloudWatch::Dashboard")
	if len(dashboards) != 1 {
		t.Fatalf("%d dashboards, want one", len(dashboards))
	}
	r, err := samtemplate.NewResolver(tmpl, samtemplate.ResolverOptions{GenerateMissing: true})
	if err != nil {
		t.Fatal(err)
	}
	body, err := r.Resolve(dashboards[0].Properties["DashboardBody"])
	if err != nil {
		t.Fatal(err)
	}
	var dash struct {
		Widgets []struct {
			Properties struct {
				Title   string
				Metrics [][]any
			}
		}
	}
	if err := json.Unmarshal([]byte(body), &dash); err != nil {
		t.Fatalf("dashboard body is not JSON: %v\n%s", err, body)
	}
	counted := countedMetrics(t)
	drawn := 0
	for _, w := range dash.Widgets {
		for _, m := range w.Properties.Metrics {
			if len(m) < 2 || m[0] != platform.MetricsNamespace {
				continue
			}
			drawn++
			if name, _ := m[1].(string); !counted[name] {
				t.Errorf("widget %q draws %s, which no code counts (counted: %v)", w.Properties.Title, name, counted)
			}
		}
	}
	if drawn == 0 {
		t.Error("the dashboard draws none of the custom metrics")
	}
}

// countedMetrics finds the metric names shared/ counts: platform.Count(ctx,
// "Name", ...) and the senders' countSend(ctx, "Channel", ...), which counts
// <Channel>Sent and <Channel>Failed.
func countedMetrics(t *testing.T) map[string]bool {
	t.Helper()
	count := regexp.MustCompile(`platform\.Count\(ctx, "(\w+)"`)
	send := regexp.MustCompile(`countSend\(ctx, "(\w+)"`)
	names := map[string]bool{}
	err := filepath.WalkDir(filepath.Join(testenv.RepoRoot(), "shared"), func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return err
		}
		src, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for _, m := range count.FindAllSubmatch(src, -1) {
			names[string(m[1])] = true
		}
		for _, m := range send.FindAllSubmatch(src, -1) {
			names[string(m[1])+"Sent"], names[string(m[1])+"Failed"] = true, true
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return names
}

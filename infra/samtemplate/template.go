// Package samtemplate reads the SAM template (template.yaml), the single source
// of truth for Kabinet's routes, functions, table and queues, and turns it into
// a local environment: typed views of the functions and their events, a
// resolver for CloudFormation intrinsic functions, and Provision, which creates
// the template's tables, queues and e-mail identities in an emulator (moto).
//
// It reads the raw YAML with go.yaml.in/yaml/v3 instead of goformation, which
// drops ScheduleV2 events and SQS events with FunctionResponseTypes.
package samtemplate

//lint:file-ignore ST1003 names spell the template's own (HttpApi, CodeUri, ApiId), so code reads like the YAML it mirrors

import (
	"errors"
	"fmt"
	"os"
	"sort"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Resource type names this package knows.
const (
	TypeFunction      = "AWS::Serverless::Function"
	TypeHttpApi       = "AWS::Serverless::HttpApi"
	TypeTable         = "AWS::DynamoDB::Table"
	TypeQueue         = "AWS::SQS::Queue"
	TypeEmailIdentity = "AWS::SES::EmailIdentity"
	TypeSecret        = "AWS::SecretsManager::Secret"
)

// Event source types this package gives a typed view of.
const (
	EventHttpApi    = "HttpApi"
	EventSQS        = "SQS"
	EventScheduleV2 = "ScheduleV2"
)

// Template is a parsed SAM template. Values that may hold intrinsic functions
// are kept raw (map[string]any / []any / scalars, with short-form tags turned
// into their long form: {"Ref": ...}, {"Fn::GetAtt": [...]}, {"Fn::Sub": ...});
// a Resolver turns them into strings.
type Template struct {
	Path        string
	Description string
	// Parameters in document order.
	Parameters []Parameter
	Conditions map[string]any
	Globals    Globals
	// Resources in document order.
	Resources []Resource
	// Functions are the AWS::Serverless::Function resources, in document
	// order, with Globals.Function merged in.
	Functions []Function
	// Outputs in document order.
	Outputs []Output
}

// Parameter is an entry of the template's Parameters section.
type Parameter struct {
	Name        string
	Type        string
	Default     string
	HasDefault  bool
	NoEcho      bool
	Description string
	// AllowedValues, MinLength etc. as written.
	Properties map[string]any
}

// Globals is the template's Globals section.
type Globals struct {
	Function GlobalFunction
	// Raw is the whole Globals section as written.
	Raw map[string]any
}

// GlobalFunction is Globals.Function.
type GlobalFunction struct {
	Runtime       string
	Architectures []string
	Handler       string
	Timeout       int
	MemorySize    int
	// Environment is Environment.Variables, values raw.
	Environment map[string]any
	// Raw is Globals.Function as written.
	Raw map[string]any
}

// Resource is one entry of the Resources section, as written.
type Resource struct {
	LogicalID  string
	Type       string
	Properties map[string]any
	Metadata   map[string]any
	Condition  string
	DependsOn  []string
}

// Output is one entry of the Outputs section.
type Output struct {
	Name        string
	Description string
	Value       any
	Export      any
}

// Function is an AWS::Serverless::Function with Globals.Function merged in.
type Function struct {
	LogicalID     string
	Runtime       string
	Architectures []string
	Handler       string
	// Timeout in seconds (Lambda's default 3 when neither sets it).
	Timeout int
	// MemorySize in MB (default 128).
	MemorySize int
	// Environment is Globals' Environment.Variables overlaid with the
	// function's own, values raw (resolve with Resolver or Environment.FunctionEnv).
	Environment map[string]any
	CodeUri     any
	// BuildMethod is Metadata.BuildMethod ("makefile", "go1.x", ...).
	BuildMethod string
	// Events in document order.
	Events []Event
	// Properties are the function's own properties as written.
	Properties map[string]any
	Metadata   map[string]any
}

// Event is one entry of a function's Events.
type Event struct {
	Name       string
	Type       string
	Properties map[string]any
	// Exactly one of these is set for the types this package knows.
	HttpApi    *HttpApiEvent
	SQS        *SQSEvent
	ScheduleV2 *ScheduleV2Event
}

// HttpApiEvent is an event of type HttpApi. A missing Method/Path means the
// $default route (Method "ANY", Path "$default").
type HttpApiEvent struct {
	Method               string
	Path                 string
	ApiId                any
	PayloadFormatVersion string
	TimeoutInMillis      int
}

// RouteKey is how API Gateway names the route: "POST /v1/organizations", or "$default".
func (e *HttpApiEvent) RouteKey() string {
	if e.Path == "$default" {
		return "$default"
	}
	return e.Method + " " + e.Path
}

// SQSEvent is an event of type SQS.
type SQSEvent struct {
	// Queue is the queue's ARN, raw (usually {"Fn::GetAtt": [Queue, "Arn"]}).
	Queue                          any
	BatchSize                      int
	MaximumBatchingWindowInSeconds int
	FunctionResponseTypes          []string
	// MaximumConcurrency is ScalingConfig.MaximumConcurrency (0 when unset).
	MaximumConcurrency int
	Enabled            bool
}

// ReportsBatchItemFailures tells whether FunctionResponseTypes has ReportBatchItemFailures.
func (e *SQSEvent) ReportsBatchItemFailures() bool {
	for _, t := range e.FunctionResponseTypes {
		if t == "ReportBatchItemFailures" {
			return true
		}
	}
	return false
}

// QueueLogicalID is the logical id of the queue the event reads, when it is a
// !GetAtt X.Arn (or !Sub "${X.Arn}"); "" otherwise.
func (e *SQSEvent) QueueLogicalID() string {
	return refTarget(e.Queue)
}

// ScheduleV2Event is an event of type ScheduleV2.
type ScheduleV2Event struct {
	ScheduleExpression         string
	ScheduleExpressionTimezone string
	// Input is the JSON text passed as the event ("" when unset).
	Input string
	// State is "ENABLED" (default) or "DISABLED".
	State       string
	Name        string
	Description string
}

// Load reads and parses the template at path.
func Load(path string) (*Template, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	t, err := Parse(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	t.Path = path
	return t, nil
}

// Parse parses a template's YAML text.
func Parse(data []byte) (*Template, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, err
	}
	if doc.Kind != yaml.DocumentNode || len(doc.Content) == 0 {
		return nil, errors.New("empty template")
	}
	root := doc.Content[0]
	if root.Kind != yaml.MappingNode {
		return nil, errors.New("template is not a mapping")
	}
	t := &Template{}

	if n := child(root, "Description"); n != nil {
		t.Description = strings.TrimSpace(n.Value)
	}

	// Parameters.
	if pn := child(root, "Parameters"); pn != nil {
		for _, name := range mappingKeys(pn) {
			v, err := fromNode(child(pn, name))
			if err != nil {
				return nil, fmt.Errorf("parameter %s: %w", name, err)
			}
			m, _ := v.(map[string]any)
			p := Parameter{Name: name, Properties: m, Type: str(m["Type"]), Description: str(m["Description"])}
			if d, ok := m["Default"]; ok && d != nil {
				p.Default, p.HasDefault = scalarString(d), true
			}
			p.NoEcho = truthy(m["NoEcho"])
			t.Parameters = append(t.Parameters, p)
		}
	}

	if cn := child(root, "Conditions"); cn != nil {
		v, err := fromNode(cn)
		if err != nil {
			return nil, fmt.Errorf("conditions: %w", err)
		}
		t.Conditions, _ = v.(map[string]any)
	}

	// Globals.
	if gn := child(root, "Globals"); gn != nil {
		v, err := fromNode(gn)
		if err != nil {
			return nil, fmt.Errorf("globals: %w", err)
		}
		t.Globals.Raw, _ = v.(map[string]any)
		gf, _ := t.Globals.Raw["Function"].(map[string]any)
		t.Globals.Function = GlobalFunction{
			Raw:           gf,
			Runtime:       str(gf["Runtime"]),
			Architectures: strList(gf["Architectures"]),
			Handler:       str(gf["Handler"]),
			Timeout:       intOf(gf["Timeout"]),
			MemorySize:    intOf(gf["MemorySize"]),
			Environment:   envVars(gf),
		}
	}

	// Resources.
	rn := child(root, "Resources")
	if rn == nil {
		return nil, errors.New("no Resources section")
	}
	for _, id := range mappingKeys(rn) {
		node := child(rn, id)
		v, err := fromNode(node)
		if err != nil {
			return nil, fmt.Errorf("resource %s: %w", id, err)
		}
		m, _ := v.(map[string]any)
		if m == nil {
			return nil, fmt.Errorf("resource %s: not a mapping", id)
		}
		r := Resource{LogicalID: id, Type: str(m["Type"]), Condition: str(m["Condition"])}
		r.Properties, _ = m["Properties"].(map[string]any)
		if r.Properties == nil {
			r.Properties = map[string]any{}
		}
		r.Metadata, _ = m["Metadata"].(map[string]any)
		switch d := m["DependsOn"].(type) {
		case string:
			r.DependsOn = []string{d}
		case []any:
			r.DependsOn = strList(d)
		}
		t.Resources = append(t.Resources, r)
		if r.Type == TypeFunction {
			f, err := t.function(r, child(child(node, "Properties"), "Events"))
			if err != nil {
				return nil, fmt.Errorf("function %s: %w", id, err)
			}
			t.Functions = append(t.Functions, f)
		}
	}

	// Outputs.
	if on := child(root, "Outputs"); on != nil {
		for _, name := range mappingKeys(on) {
			v, err := fromNode(child(on, name))
			if err != nil {
				return nil, fmt.Errorf("output %s: %w", name, err)
			}
			m, _ := v.(map[string]any)
			t.Outputs = append(t.Outputs, Output{Name: name, Description: str(m["Description"]), Value: m["Value"], Export: m["Export"]})
		}
	}
	return t, nil
}

func (t *Template) function(r Resource, eventsNode *yaml.Node) (Function, error) {
	g := t.Globals.Function
	p := r.Properties
	f := Function{
		LogicalID:     r.LogicalID,
		Runtime:       firstNonEmpty(str(p["Runtime"]), g.Runtime),
		Architectures: strList(p["Architectures"]),
		Handler:       firstNonEmpty(str(p["Handler"]), g.Handler),
		Timeout:       intOf(p["Timeout"]),
		MemorySize:    intOf(p["MemorySize"]),
		CodeUri:       p["CodeUri"],
		Properties:    p,
		Metadata:      r.Metadata,
		Environment:   map[string]any{},
	}
	if len(f.Architectures) == 0 {
		f.Architectures = g.Architectures
	}
	if f.Timeout == 0 {
		f.Timeout = g.Timeout
	}
	if f.Timeout == 0 {
		f.Timeout = 3
	}
	if f.MemorySize == 0 {
		f.MemorySize = g.MemorySize
	}
	if f.MemorySize == 0 {
		f.MemorySize = 128
	}
	for k, v := range g.Environment {
		f.Environment[k] = v
	}
	for k, v := range envVars(p) {
		f.Environment[k] = v
	}
	if r.Metadata != nil {
		f.BuildMethod = str(r.Metadata["BuildMethod"])
	}
	events, _ := p["Events"].(map[string]any)
	for _, name := range mappingKeys(eventsNode) {
		em, _ := events[name].(map[string]any)
		ev := Event{Name: name, Type: str(em["Type"])}
		ev.Properties, _ = em["Properties"].(map[string]any)
		if ev.Properties == nil {
			ev.Properties = map[string]any{}
		}
		ep := ev.Properties
		switch ev.Type {
		case EventHttpApi:
			// SAM writes payloadFormatVersion 2.0 into the integration when the
			// event leaves it out; template.yaml relies on that and so does this parser.
			h := &HttpApiEvent{
				Method:               strings.ToUpper(str(ep["Method"])),
				Path:                 str(ep["Path"]),
				ApiId:                ep["ApiId"],
				PayloadFormatVersion: firstNonEmpty(scalarString(ep["PayloadFormatVersion"]), "2.0"),
				TimeoutInMillis:      intOf(ep["TimeoutInMillis"]),
			}
			if h.Path == "" || h.Path == "$default" {
				h.Path, h.Method = "$default", "ANY"
			}
			if h.Method == "" {
				h.Method = "ANY"
			}
			ev.HttpApi = h
		case EventSQS:
			s := &SQSEvent{
				Queue:                          ep["Queue"],
				BatchSize:                      intOf(ep["BatchSize"]),
				MaximumBatchingWindowInSeconds: intOf(ep["MaximumBatchingWindowInSeconds"]),
				FunctionResponseTypes:          strList(ep["FunctionResponseTypes"]),
				Enabled:                        true,
			}
			if e, ok := ep["Enabled"]; ok {
				s.Enabled = truthy(e)
			}
			if s.BatchSize == 0 {
				s.BatchSize = 10
			}
			if sc, ok := ep["ScalingConfig"].(map[string]any); ok {
				s.MaximumConcurrency = intOf(sc["MaximumConcurrency"])
			}
			ev.SQS = s
		case EventScheduleV2:
			s := &ScheduleV2Event{
				ScheduleExpression:         str(ep["ScheduleExpression"]),
				ScheduleExpressionTimezone: str(ep["ScheduleExpressionTimezone"]),
				Input:                      str(ep["Input"]),
				State:                      firstNonEmpty(str(ep["State"]), "ENABLED"),
				Name:                       str(ep["Name"]),
				Description:                str(ep["Description"]),
			}
			ev.ScheduleV2 = s
		}
		f.Events = append(f.Events, ev)
	}
	return f, nil
}

// Parameter returns the parameter named name.
func (t *Template) Parameter(name string) (Parameter, bool) {
	for _, p := range t.Parameters {
		if p.Name == name {
			return p, true
		}
	}
	return Parameter{}, false
}

// Resource returns the resource with the logical id.
func (t *Template) Resource(logicalID string) (Resource, bool) {
	for _, r := range t.Resources {
		if r.LogicalID == logicalID {
			return r, true
		}
	}
	return Resource{}, false
}

// Function returns the function with the logical id.
func (t *Template) Function(logicalID string) (Function, bool) {
	for _, f := range t.Functions {
		if f.LogicalID == logicalID {
			return f, true
		}
	}
	return Function{}, false
}

// ResourcesOfType lists the resources of one type, in document order.
func (t *Template) ResourcesOfType(typ string) []Resource {
	var out []Resource
	for _, r := range t.Resources {
		if r.Type == typ {
			out = append(out, r)
		}
	}
	return out
}

// Tables lists the AWS::DynamoDB::Table resources.
func (t *Template) Tables() []Resource { return t.ResourcesOfType(TypeTable) }

// Queues lists the AWS::SQS::Queue resources.
func (t *Template) Queues() []Resource { return t.ResourcesOfType(TypeQueue) }

// EmailIdentities lists the AWS::SES::EmailIdentity resources.
func (t *Template) EmailIdentities() []Resource { return t.ResourcesOfType(TypeEmailIdentity) }

// Secrets returns the Secrets Manager secrets.
func (t *Template) Secrets() []Resource { return t.ResourcesOfType(TypeSecret) }

// Route is one HttpApi event with the function it invokes.
type Route struct {
	Function string
	Event    string
	*HttpApiEvent
}

// Routes lists every HttpApi event of every function, in document order.
func (t *Template) Routes() []Route {
	var out []Route
	for _, f := range t.Functions {
		for _, e := range f.Events {
			if e.HttpApi != nil {
				out = append(out, Route{Function: f.LogicalID, Event: e.Name, HttpApiEvent: e.HttpApi})
			}
		}
	}
	return out
}

// Output returns the output named name.
func (t *Template) Output(name string) (Output, bool) {
	for _, o := range t.Outputs {
		if o.Name == name {
			return o, true
		}
	}
	return Output{}, false
}

// ---- small helpers over raw values ----

func str(v any) string {
	s, _ := v.(string)
	return s
}

// scalarString renders a scalar (string, number, bool) as CloudFormation would.
func scalarString(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	case int:
		return strconv.Itoa(x)
	case int64:
		return strconv.FormatInt(x, 10)
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	case bool:
		return strconv.FormatBool(x)
	}
	return fmt.Sprint(v)
}

func intOf(v any) int {
	switch x := v.(type) {
	case int:
		return x
	case float64:
		return int(x)
	case string:
		i, _ := strconv.Atoi(strings.TrimSpace(x))
		return i
	}
	return 0
}

func truthy(v any) bool {
	switch x := v.(type) {
	case bool:
		return x
	case string:
		return strings.EqualFold(x, "true")
	}
	return false
}

func strList(v any) []string {
	l, ok := v.([]any)
	if !ok {
		if s, ok := v.(string); ok && s != "" {
			return []string{s}
		}
		return nil
	}
	out := make([]string, 0, len(l))
	for _, e := range l {
		out = append(out, scalarString(e))
	}
	return out
}

func envVars(props map[string]any) map[string]any {
	env, _ := props["Environment"].(map[string]any)
	vars, _ := env["Variables"].(map[string]any)
	return vars
}

func firstNonEmpty(s ...string) string {
	for _, x := range s {
		if x != "" {
			return x
		}
	}
	return ""
}

// refTarget returns the logical id named by {"Ref": X}, {"Fn::GetAtt": [X, ...]}
// or a Fn::Sub that is exactly "${X}" / "${X.Attr}"; "" otherwise.
func refTarget(v any) string {
	m, ok := v.(map[string]any)
	if !ok || len(m) != 1 {
		return ""
	}
	if r, ok := m["Ref"].(string); ok {
		return r
	}
	if g, ok := m["Fn::GetAtt"]; ok {
		switch x := g.(type) {
		case []any:
			if len(x) > 0 {
				return str(x[0])
			}
		case string:
			res, _, _ := strings.Cut(x, ".")
			return res
		}
	}
	if s, ok := m["Fn::Sub"].(string); ok && strings.HasPrefix(s, "${") && strings.HasSuffix(s, "}") && strings.Count(s, "${") == 1 {
		res, _, _ := strings.Cut(s[2:len(s)-1], ".")
		return res
	}
	return ""
}

// references lists the logical ids (resources or parameters) that v refers to
// through Ref, Fn::GetAtt and Fn::Sub, sorted and without duplicates.
func references(v any) []string {
	set := map[string]bool{}
	var walk func(any)
	walk = func(v any) {
		switch x := v.(type) {
		case map[string]any:
			if len(x) == 1 {
				if r, ok := x["Ref"].(string); ok {
					set[r] = true
					return
				}
				if g, ok := x["Fn::GetAtt"]; ok {
					if id := refTarget(map[string]any{"Fn::GetAtt": g}); id != "" {
						set[id] = true
					}
					return
				}
				if s, ok := x["Fn::Sub"]; ok {
					var text string
					switch y := s.(type) {
					case string:
						text = y
					case []any:
						if len(y) > 0 {
							text = str(y[0])
						}
						if len(y) > 1 {
							walk(y[1])
						}
					}
					for _, name := range subVariables(text) {
						id, _, _ := strings.Cut(name, ".")
						set[id] = true
					}
					return
				}
			}
			for _, e := range x {
				walk(e)
			}
		case []any:
			for _, e := range x {
				walk(e)
			}
		}
	}
	walk(v)
	out := make([]string, 0, len(set))
	for k := range set {
		if !strings.HasPrefix(k, "AWS::") {
			out = append(out, k)
		}
	}
	sort.Strings(out)
	return out
}

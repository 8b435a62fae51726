package samtemplate

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"math/big"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
)

// LocalAccountID is the account moto uses by default, and so the local one.
const LocalAccountID = "123456789012"

// LocalStackName is what AWS::StackName resolves to locally.
const LocalStackName = "kabinet-local"

// LocalRegion is the region for a local run: $AWS_REGION, else
// $AWS_DEFAULT_REGION, else us-east-1.
func LocalRegion() string {
	if r := os.Getenv("AWS_REGION"); r != "" {
		return r
	}
	if r := os.Getenv("AWS_DEFAULT_REGION"); r != "" {
		return r
	}
	return "us-east-1"
}

// GenerateSecret returns a random 48-character alphanumeric string, the local
// value of a parameter that has no Default (the signing keys and peppers).
func GenerateSecret() string {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
	b := make([]byte, 48)
	max := big.NewInt(int64(len(alphabet)))
	for i := range b {
		n, err := rand.Int(rand.Reader, max)
		if err != nil {
			panic(err)
		}
		b[i] = alphabet[n.Int64()]
	}
	return string(b)
}

// LocalParameters give a local environment (make run, the tests, the
// benchmarks) the parameters a deployment must choose, which template.yaml
// therefore leaves without a Default (a placeholder there would let a real
// deploy succeed with dead links). A value in ResolverOptions.Parameters
// (make run's -param) still wins. Secrets are not here: they are generated.
var LocalParameters = map[string]string{
	"Stage": "local",
	// Links in local messages (the outbox at /_local/outbox) and the local
	// sender address; .example is reserved, so nothing is ever sent there.
	"PublicBaseURL": "https://kabinet.example",
	"SenderDomain":  "kabinet.example",
}

// ResolverOptions describe the local environment intrinsic functions resolve against.
type ResolverOptions struct {
	// Region defaults to LocalRegion().
	Region string
	// AccountID defaults to LocalAccountID.
	AccountID string
	// Parameters override defaults and LocalParameters, and give values to
	// parameters that have none.
	Parameters map[string]string
	// GenerateMissing gives every parameter that has neither a Default nor a
	// value in Parameters a GenerateSecret() value; otherwise such a parameter
	// is an error.
	GenerateMissing bool
	// SecretValues are the initial values of Secrets Manager secrets, by
	// logical id, in place of the ones their GenerateSecretString would make
	// (make run's -secret: a local run that must know a secret, such as the
	// contract run's operator token).
	SecretValues map[string]string
	// QueueURLBase is the base of the queue URLs assumed before provisioning
	// (default https://sqs.<region>.amazonaws.com); Provision replaces them with
	// the emulator's.
	QueueURLBase string
}

// Resolver turns intrinsic values (Ref, Fn::GetAtt, Fn::Sub, Fn::Join,
// Fn::Select, Fn::Split, Fn::If, Fn::Base64, Fn::GetAZs, conditions) into
// concrete values for a local environment. Physical names are the logical
// ids unless the template names the resource (TableName, QueueName, ...).
// It is safe for concurrent use.
type Resolver struct {
	Region    string
	AccountID string
	Partition string
	URLSuffix string

	t            *Template
	params       map[string]string
	secretValues map[string]string
	queueURLBase string

	mu    sync.RWMutex
	refs  map[string]string
	attrs map[string]map[string]string
}

// NewResolver prepares a resolver for t.
func NewResolver(t *Template, opts ResolverOptions) (*Resolver, error) {
	r := &Resolver{
		Region:       firstNonEmpty(opts.Region, LocalRegion()),
		AccountID:    firstNonEmpty(opts.AccountID, LocalAccountID),
		Partition:    "aws",
		URLSuffix:    "amazonaws.com",
		t:            t,
		params:       map[string]string{},
		queueURLBase: opts.QueueURLBase,
		secretValues: opts.SecretValues,
		refs:         map[string]string{},
		attrs:        map[string]map[string]string{},
	}
	if strings.HasPrefix(r.Region, "cn-") {
		r.Partition, r.URLSuffix = "aws-cn", "amazonaws.com.cn"
	}
	if r.queueURLBase == "" {
		r.queueURLBase = "https://sqs." + r.Region + "." + r.URLSuffix
	}
	var missing []string
	for _, p := range t.Parameters {
		switch v, ok := opts.Parameters[p.Name]; {
		case ok:
			r.params[p.Name] = v
		case p.HasDefault:
			r.params[p.Name] = p.Default
		case LocalParameters[p.Name] != "":
			r.params[p.Name] = LocalParameters[p.Name]
		case opts.GenerateMissing:
			r.params[p.Name] = GenerateSecret()
		default:
			missing = append(missing, p.Name)
		}
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("parameters without a default need a value: %s", strings.Join(missing, ", "))
	}
	return r, nil
}

// Parameters returns a copy of the parameter values in use.
func (r *Resolver) Parameters() map[string]string {
	out := make(map[string]string, len(r.params))
	for k, v := range r.params {
		out[k] = v
	}
	return out
}

// SetRef records what Ref of a resource gives (e.g. the queue URL the emulator returned).
func (r *Resolver) SetRef(logicalID, value string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.refs[logicalID] = value
}

// SetAttr records what Fn::GetAtt of a resource attribute gives.
func (r *Resolver) SetAttr(logicalID, attr, value string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.attrs[logicalID] == nil {
		r.attrs[logicalID] = map[string]string{}
	}
	r.attrs[logicalID][attr] = value
}

// Resolve resolves v to a string. Lists resolve to their elements joined by commas.
func (r *Resolver) Resolve(v any) (string, error) {
	x, err := r.eval(v)
	if err != nil {
		return "", err
	}
	return stringify(x)
}

func stringify(x any) (string, error) {
	switch y := x.(type) {
	case noValue:
		return "", nil
	case []any:
		parts := make([]string, len(y))
		for i, e := range y {
			parts[i] = scalarString(e)
		}
		return strings.Join(parts, ","), nil
	case map[string]any:
		return "", fmt.Errorf("value is a mapping, not a string")
	}
	return scalarString(x), nil
}

// ResolveValue resolves every intrinsic function inside v, keeping the
// structure (maps, lists, scalars). AWS::NoValue drops the key or element.
func (r *Resolver) ResolveValue(v any) (any, error) {
	x, err := r.eval(v)
	if err != nil {
		return nil, err
	}
	if _, ok := x.(noValue); ok {
		return nil, nil
	}
	return x, nil
}

// noValue is what Ref AWS::NoValue evaluates to.
type noValue struct{}

func (r *Resolver) eval(v any) (any, error) {
	switch x := v.(type) {
	case map[string]any:
		if len(x) == 1 {
			for k, arg := range x {
				if k == "Ref" || strings.HasPrefix(k, "Fn::") || (k == "Condition" && isString(arg)) {
					return r.intrinsic(k, arg)
				}
			}
		}
		out := make(map[string]any, len(x))
		for k, e := range x {
			y, err := r.eval(e)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", k, err)
			}
			if _, drop := y.(noValue); drop {
				continue
			}
			out[k] = y
		}
		return out, nil
	case []any:
		out := make([]any, 0, len(x))
		for _, e := range x {
			y, err := r.eval(e)
			if err != nil {
				return nil, err
			}
			if _, drop := y.(noValue); drop {
				continue
			}
			out = append(out, y)
		}
		return out, nil
	}
	return v, nil
}

func isString(v any) bool { _, ok := v.(string); return ok }

func (r *Resolver) evalString(v any) (string, error) {
	x, err := r.eval(v)
	if err != nil {
		return "", err
	}
	if _, ok := x.(map[string]any); ok {
		return "", errors.New("expected a string, got a mapping")
	}
	if l, ok := x.([]any); ok {
		return "", fmt.Errorf("expected a string, got a list of %d", len(l))
	}
	return scalarString(x), nil
}

func (r *Resolver) evalList(v any) ([]any, error) {
	x, err := r.eval(v)
	if err != nil {
		return nil, err
	}
	switch y := x.(type) {
	case []any:
		return y, nil
	case string:
		// A CommaDelimitedList parameter.
		var out []any
		for _, s := range strings.Split(y, ",") {
			out = append(out, s)
		}
		return out, nil
	}
	return nil, fmt.Errorf("expected a list, got %T", x)
}

func (r *Resolver) intrinsic(fn string, arg any) (any, error) {
	switch fn {
	case "Ref":
		name, err := r.evalString(arg)
		if err != nil {
			return nil, fmt.Errorf("Ref: %w", err)
		}
		if name == "AWS::NoValue" {
			return noValue{}, nil
		}
		s, err := r.Ref(name)
		if err != nil {
			return nil, err
		}
		if p, ok := r.t.Parameter(name); ok && strings.HasPrefix(p.Type, "List<") || ok && p.Type == "CommaDelimitedList" {
			return r.evalList(s)
		}
		return s, nil
	case "Fn::GetAtt":
		var res, attr string
		switch x := arg.(type) {
		case string:
			res, attr, _ = strings.Cut(x, ".")
		case []any:
			if len(x) != 2 {
				return nil, fmt.Errorf("Fn::GetAtt wants [Resource, Attribute], got %v", x)
			}
			var err error
			if res, err = r.evalString(x[0]); err != nil {
				return nil, err
			}
			if attr, err = r.evalString(x[1]); err != nil {
				return nil, err
			}
		default:
			return nil, fmt.Errorf("Fn::GetAtt: unexpected %T", arg)
		}
		return r.GetAtt(res, attr)
	case "Fn::Sub":
		var text string
		vars := map[string]string{}
		switch x := arg.(type) {
		case string:
			text = x
		case []any:
			if len(x) != 2 {
				return nil, errors.New("Fn::Sub wants a string or [string, {vars}]")
			}
			text = str(x[0])
			m, _ := x[1].(map[string]any)
			for k, e := range m {
				s, err := r.evalString(e)
				if err != nil {
					return nil, fmt.Errorf("Fn::Sub variable %s: %w", k, err)
				}
				vars[k] = s
			}
		default:
			return nil, fmt.Errorf("Fn::Sub: unexpected %T", arg)
		}
		return r.sub(text, vars)
	case "Fn::Join":
		l, ok := arg.([]any)
		if !ok || len(l) != 2 {
			return nil, errors.New("Fn::Join wants [delimiter, [values]]")
		}
		delim, err := r.evalString(l[0])
		if err != nil {
			return nil, err
		}
		items, err := r.evalList(l[1])
		if err != nil {
			return nil, fmt.Errorf("Fn::Join: %w", err)
		}
		parts := make([]string, len(items))
		for i, e := range items {
			parts[i] = scalarString(e)
		}
		return strings.Join(parts, delim), nil
	case "Fn::Select":
		l, ok := arg.([]any)
		if !ok || len(l) != 2 {
			return nil, errors.New("Fn::Select wants [index, [values]]")
		}
		is, err := r.evalString(l[0])
		if err != nil {
			return nil, err
		}
		i, err := strconv.Atoi(is)
		if err != nil {
			return nil, fmt.Errorf("Fn::Select index %q", is)
		}
		items, err := r.evalList(l[1])
		if err != nil {
			return nil, err
		}
		if i < 0 || i >= len(items) {
			return nil, fmt.Errorf("Fn::Select index %d out of range (%d)", i, len(items))
		}
		return items[i], nil
	case "Fn::Split":
		l, ok := arg.([]any)
		if !ok || len(l) != 2 {
			return nil, errors.New("Fn::Split wants [delimiter, string]")
		}
		delim, err := r.evalString(l[0])
		if err != nil {
			return nil, err
		}
		s, err := r.evalString(l[1])
		if err != nil {
			return nil, err
		}
		var out []any
		for _, p := range strings.Split(s, delim) {
			out = append(out, p)
		}
		return out, nil
	case "Fn::Base64":
		s, err := r.evalString(arg)
		if err != nil {
			return nil, err
		}
		return base64.StdEncoding.EncodeToString([]byte(s)), nil
	case "Fn::GetAZs":
		return []any{r.Region + "a", r.Region + "b", r.Region + "c"}, nil
	case "Fn::If":
		l, ok := arg.([]any)
		if !ok || len(l) != 3 {
			return nil, errors.New("Fn::If wants [condition, then, else]")
		}
		c, err := r.Condition(str(l[0]))
		if err != nil {
			return nil, err
		}
		if c {
			return r.eval(l[1])
		}
		return r.eval(l[2])
	case "Fn::Equals", "Fn::Not", "Fn::And", "Fn::Or", "Condition":
		b, err := r.condition(map[string]any{fn: arg})
		if err != nil {
			return nil, err
		}
		return b, nil
	}
	return nil, fmt.Errorf("%s is not supported by the local resolver", fn)
}

// Condition evaluates the template condition named name.
func (r *Resolver) Condition(name string) (bool, error) {
	c, ok := r.t.Conditions[name]
	if !ok {
		return false, fmt.Errorf("unknown condition %q", name)
	}
	return r.condition(c)
}

func (r *Resolver) condition(v any) (bool, error) {
	switch x := v.(type) {
	case bool:
		return x, nil
	case string:
		return strings.EqualFold(x, "true"), nil
	case map[string]any:
		if len(x) != 1 {
			break
		}
		for k, arg := range x {
			l, _ := arg.([]any)
			switch k {
			case "Condition":
				return r.Condition(str(arg))
			case "Fn::Equals":
				if len(l) != 2 {
					return false, errors.New("Fn::Equals wants two values")
				}
				a, err := r.evalString(l[0])
				if err != nil {
					return false, err
				}
				b, err := r.evalString(l[1])
				if err != nil {
					return false, err
				}
				return a == b, nil
			case "Fn::Not":
				if len(l) != 1 {
					return false, errors.New("Fn::Not wants one condition")
				}
				b, err := r.condition(l[0])
				return !b, err
			case "Fn::And", "Fn::Or":
				and := k == "Fn::And"
				for _, e := range l {
					b, err := r.condition(e)
					if err != nil {
						return false, err
					}
					if and && !b {
						return false, nil
					}
					if !and && b {
						return true, nil
					}
				}
				return and, nil
			}
		}
	}
	return false, fmt.Errorf("not a condition: %v", v)
}

// subVariables lists the ${...} variables of a Fn::Sub text (not ${!Literal}).
func subVariables(text string) []string {
	var out []string
	for {
		i := strings.Index(text, "${")
		if i < 0 {
			return out
		}
		j := strings.Index(text[i:], "}")
		if j < 0 {
			return out
		}
		name := text[i+2 : i+j]
		if !strings.HasPrefix(name, "!") {
			out = append(out, strings.TrimSpace(name))
		}
		text = text[i+j+1:]
	}
}

func (r *Resolver) sub(text string, vars map[string]string) (string, error) {
	var b strings.Builder
	for {
		i := strings.Index(text, "${")
		if i < 0 {
			b.WriteString(text)
			return b.String(), nil
		}
		j := strings.Index(text[i:], "}")
		if j < 0 {
			b.WriteString(text)
			return b.String(), nil
		}
		b.WriteString(text[:i])
		name := strings.TrimSpace(text[i+2 : i+j])
		text = text[i+j+1:]
		if strings.HasPrefix(name, "!") {
			b.WriteString("${" + name[1:] + "}")
			continue
		}
		if v, ok := vars[name]; ok {
			b.WriteString(v)
			continue
		}
		var (
			v   string
			err error
		)
		if res, attr, ok := strings.Cut(name, "."); ok && !strings.HasPrefix(name, "AWS::") {
			v, err = r.GetAtt(res, attr)
		} else {
			v, err = r.Ref(name)
		}
		if err != nil {
			return "", fmt.Errorf("Fn::Sub ${%s}: %w", name, err)
		}
		b.WriteString(v)
	}
}

// Ref resolves Ref of a parameter, pseudo parameter or resource.
func (r *Resolver) Ref(name string) (string, error) {
	switch name {
	case "AWS::Region":
		return r.Region, nil
	case "AWS::AccountId":
		return r.AccountID, nil
	case "AWS::Partition":
		return r.Partition, nil
	case "AWS::URLSuffix":
		return r.URLSuffix, nil
	case "AWS::StackName":
		return LocalStackName, nil
	case "AWS::StackId":
		return fmt.Sprintf("arn:%s:cloudformation:%s:%s:stack/%s/00000000-0000-0000-0000-000000000000", r.Partition, r.Region, r.AccountID, LocalStackName), nil
	case "AWS::NotificationARNs":
		return "", nil
	case "AWS::NoValue":
		return "", nil
	}
	if v, ok := r.params[name]; ok {
		return v, nil
	}
	r.mu.RLock()
	v, ok := r.refs[name]
	r.mu.RUnlock()
	if ok {
		return v, nil
	}
	res, ok := r.resource(name)
	if !ok {
		return "", fmt.Errorf("Ref %s: no such parameter or resource", name)
	}
	switch res.Type {
	case TypeQueue:
		n, err := r.physicalName(res)
		if err != nil {
			return "", err
		}
		return strings.TrimRight(r.queueURLBase, "/") + "/" + r.AccountID + "/" + n, nil
	case TypeHttpApi, "AWS::Serverless::Api", "AWS::ApiGatewayV2::Api", "AWS::ApiGateway::RestApi":
		return apiID(res.LogicalID), nil
	case TypeEmailIdentity:
		return r.evalString(res.Properties["EmailIdentity"])
	case "AWS::SNS::Topic":
		n, err := r.physicalName(res)
		if err != nil {
			return "", err
		}
		return r.arn("sns", n), nil
	case "AWS::IAM::Role":
		return res.LogicalID, nil
	case TypeSecret:
		// Ref of a secret is its ARN; Provision sets the one Secrets
		// Manager gave (it ends in a random suffix).
		n, err := r.physicalName(res)
		if err != nil {
			return "", err
		}
		return r.arn("secretsmanager", "secret:"+n), nil
	}
	return r.physicalName(res)
}

// GetAtt resolves Fn::GetAtt of a resource attribute.
func (r *Resolver) GetAtt(logicalID, attr string) (string, error) {
	r.mu.RLock()
	v, ok := r.attrs[logicalID][attr]
	r.mu.RUnlock()
	if ok {
		return v, nil
	}
	res, ok := r.resource(logicalID)
	if !ok {
		return "", fmt.Errorf("Fn::GetAtt %s.%s: no such resource", logicalID, attr)
	}
	name, err := r.physicalName(res)
	if err != nil {
		return "", err
	}
	switch res.Type {
	case TypeTable:
		switch attr {
		case "Arn":
			return r.arn("dynamodb", "table/"+name), nil
		case "StreamArn":
			return r.arn("dynamodb", "table/"+name+"/stream/1970-01-01T00:00:00.000"), nil
		}
	case TypeQueue:
		switch attr {
		case "Arn":
			return r.arn("sqs", name), nil
		case "QueueName":
			return name, nil
		case "QueueUrl":
			return r.Ref(logicalID)
		}
	case TypeFunction, "AWS::Lambda::Function":
		if attr == "Arn" {
			return r.arn("lambda", "function:"+name), nil
		}
	case TypeHttpApi, "AWS::ApiGatewayV2::Api":
		if attr == "ApiEndpoint" {
			return "https://" + apiID(logicalID) + ".execute-api." + r.Region + "." + r.URLSuffix, nil
		}
	case "AWS::Logs::LogGroup":
		if attr == "Arn" {
			return r.arn("logs", "log-group:"+name+":*"), nil
		}
	case "AWS::SNS::Topic":
		switch attr {
		case "TopicArn":
			return r.arn("sns", name), nil
		case "TopicName":
			return name, nil
		}
	case "AWS::IAM::Role":
		if attr == "Arn" {
			return fmt.Sprintf("arn:%s:iam::%s:role/%s", r.Partition, r.AccountID, name), nil
		}
	}
	if attr == "Arn" {
		svc := strings.ToLower(strings.Split(res.Type, "::")[1])
		return r.arn(svc, name), nil
	}
	return "", fmt.Errorf("Fn::GetAtt %s.%s: attribute not known to the local resolver", logicalID, attr)
}

func (r *Resolver) arn(service, resource string) string {
	sep := ":"
	return "arn:" + r.Partition + sep + service + sep + r.Region + sep + r.AccountID + sep + resource
}

// resource finds a resource, including SAM's implicit ServerlessHttpApi.
func (r *Resolver) resource(id string) (Resource, bool) {
	if res, ok := r.t.Resource(id); ok {
		return res, true
	}
	if id == "ServerlessHttpApi" {
		return Resource{LogicalID: id, Type: TypeHttpApi, Properties: map[string]any{}}, true
	}
	return Resource{}, false
}

// nameProperty is the property that names a resource of each type.
var nameProperty = map[string]string{
	TypeTable:               "TableName",
	TypeQueue:               "QueueName",
	TypeFunction:            "FunctionName",
	"AWS::Lambda::Function": "FunctionName",
	"AWS::Logs::LogGroup":   "LogGroupName",
	"AWS::SNS::Topic":       "TopicName",
	"AWS::IAM::Role":        "RoleName",
	TypeSecret:              "Name",
}

// PhysicalName is the local name of a resource: the name its properties give
// (TableName, QueueName, ...), else its logical id (plus ".fifo" for a FIFO
// queue).
func (r *Resolver) PhysicalName(logicalID string) (string, error) {
	res, ok := r.resource(logicalID)
	if !ok {
		return "", fmt.Errorf("no resource %q", logicalID)
	}
	return r.physicalName(res)
}

func (r *Resolver) physicalName(res Resource) (string, error) {
	if p, ok := nameProperty[res.Type]; ok {
		if v, ok := res.Properties[p]; ok && v != nil {
			s, err := r.evalString(v)
			if err != nil {
				return "", fmt.Errorf("%s.%s: %w", res.LogicalID, p, err)
			}
			if s != "" {
				return s, nil
			}
		}
	}
	if res.Type == TypeQueue && truthy(res.Properties["FifoQueue"]) {
		return res.LogicalID + ".fifo", nil
	}
	return res.LogicalID, nil
}

func apiID(logicalID string) string {
	return strings.ToLower(logicalID)
}

// ResolveMap resolves every value of m (e.g. a function's Environment).
func (r *Resolver) ResolveMap(m map[string]any) (map[string]string, error) {
	out := make(map[string]string, len(m))
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		x, err := r.eval(m[k])
		if err != nil {
			return nil, fmt.Errorf("%s: %w", k, err)
		}
		if _, drop := x.(noValue); drop {
			continue
		}
		s, err := stringify(x)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", k, err)
		}
		out[k] = s
	}
	return out, nil
}

package samtemplate

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	kmstypes "github.com/aws/aws-sdk-go-v2/service/kms/types"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	smtypes "github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
	sestypes "github.com/aws/aws-sdk-go-v2/service/sesv2/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
)

// Queue is a provisioned SQS queue.
type Queue struct {
	LogicalID string
	Name      string
	URL       string
	ARN       string
}

// Table is a provisioned DynamoDB table.
type Table struct {
	LogicalID string
	Name      string
	ARN       string
}

// Environment is the template's resources as provisioned locally.
type Environment struct {
	Template *Template
	Resolver *Resolver
	// Keyed by logical id.
	Tables          map[string]Table
	Queues          map[string]Queue
	EmailIdentities map[string]string
	// Secrets are the Secrets Manager secrets' ARNs.
	Secrets map[string]string
	// Parameters are the parameter values in use (generated secrets included).
	Parameters map[string]string

	functionEnv map[string]map[string]string
}

// FunctionEnv gives the environment variables of a function (Globals merged
// with its own), fully resolved; nil for an unknown function.
func (e *Environment) FunctionEnv(logicalID string) map[string]string {
	env, ok := e.functionEnv[logicalID]
	if !ok {
		return nil
	}
	out := make(map[string]string, len(env))
	for k, v := range env {
		out[k] = v
	}
	return out
}

// QueueByARN finds a provisioned queue by its ARN.
func (e *Environment) QueueByARN(arn string) (Queue, bool) {
	for _, q := range e.Queues {
		if q.ARN == arn {
			return q, true
		}
	}
	return Queue{}, false
}

// Option adjusts Provision.
type Option func(*ResolverOptions)

// WithParameters sets parameter values (overriding defaults).
func WithParameters(p map[string]string) Option {
	return func(o *ResolverOptions) {
		if o.Parameters == nil {
			o.Parameters = map[string]string{}
		}
		for k, v := range p {
			o.Parameters[k] = v
		}
	}
}

// WithSecretValues sets the initial values of secrets by logical id
// (see ResolverOptions.SecretValues).
func WithSecretValues(v map[string]string) Option {
	return func(o *ResolverOptions) {
		if o.SecretValues == nil {
			o.SecretValues = map[string]string{}
		}
		for k, s := range v {
			o.SecretValues[k] = s
		}
	}
}

// WithAccountID sets the account id (default LocalAccountID).
func WithAccountID(id string) Option {
	return func(o *ResolverOptions) { o.AccountID = id }
}

// Provision creates the template's DynamoDB tables, SQS queues (dead-letter
// queues first) and SES e-mail identities with clients built from cfg, whose
// endpoint comes from the SDK's standard variables (AWS_ENDPOINT_URL, ...).
// Resources that already exist are fine. Parameters without a Default and
// without a WithParameters value get a random 48-character secret.
func Provision(ctx context.Context, t *Template, cfg aws.Config, opts ...Option) (*Environment, error) {
	ro := ResolverOptions{Region: cfg.Region, GenerateMissing: true}
	for _, o := range opts {
		o(&ro)
	}
	r, err := NewResolver(t, ro)
	if err != nil {
		return nil, err
	}
	env := &Environment{
		Template:        t,
		Resolver:        r,
		Tables:          map[string]Table{},
		Queues:          map[string]Queue{},
		EmailIdentities: map[string]string{},
		Secrets:         map[string]string{},
		Parameters:      r.Parameters(),
		functionEnv:     map[string]map[string]string{},
	}

	ddb := dynamodb.NewFromConfig(cfg)
	for _, res := range t.Tables() {
		tb, err := provisionTable(ctx, ddb, r, res)
		if err != nil {
			return nil, fmt.Errorf("table %s: %w", res.LogicalID, err)
		}
		env.Tables[res.LogicalID] = tb
		r.SetRef(res.LogicalID, tb.Name)
		r.SetAttr(res.LogicalID, "Arn", tb.ARN)
	}

	sq := sqs.NewFromConfig(cfg)
	queues, err := queueOrder(t.Queues())
	if err != nil {
		return nil, err
	}
	for _, res := range queues {
		q, err := provisionQueue(ctx, sq, r, res)
		if err != nil {
			return nil, fmt.Errorf("queue %s: %w", res.LogicalID, err)
		}
		env.Queues[res.LogicalID] = q
		r.SetRef(res.LogicalID, q.URL)
		r.SetAttr(res.LogicalID, "Arn", q.ARN)
		r.SetAttr(res.LogicalID, "QueueName", q.Name)
		r.SetAttr(res.LogicalID, "QueueUrl", q.URL)
	}

	if ids := t.EmailIdentities(); len(ids) > 0 {
		ses := sesv2.NewFromConfig(cfg)
		for _, res := range ids {
			id, err := r.Resolve(res.Properties["EmailIdentity"])
			if err != nil {
				return nil, fmt.Errorf("email identity %s: %w", res.LogicalID, err)
			}
			_, err = ses.CreateEmailIdentity(ctx, &sesv2.CreateEmailIdentityInput{EmailIdentity: aws.String(id)})
			var exists *sestypes.AlreadyExistsException
			if err != nil && !errors.As(err, &exists) {
				return nil, fmt.Errorf("email identity %s (%s): %w", res.LogicalID, id, err)
			}
			env.EmailIdentities[res.LogicalID] = id
		}
	}

	if keys := t.ResourcesOfType("AWS::KMS::Key"); len(keys) > 0 {
		kc := kms.NewFromConfig(cfg)
		for _, res := range keys {
			k, err := provisionKey(ctx, kc, res)
			if err != nil {
				return nil, fmt.Errorf("KMS key %s: %w", res.LogicalID, err)
			}
			r.SetRef(res.LogicalID, *k.KeyId)
			r.SetAttr(res.LogicalID, "Arn", *k.Arn)
			r.SetAttr(res.LogicalID, "KeyId", *k.KeyId)
		}
	}

	if secs := t.Secrets(); len(secs) > 0 {
		sm := secretsmanager.NewFromConfig(cfg)
		for _, res := range secs {
			arn, err := provisionSecret(ctx, sm, r, res)
			if err != nil {
				return nil, fmt.Errorf("secret %s: %w", res.LogicalID, err)
			}
			env.Secrets[res.LogicalID] = arn
			r.SetRef(res.LogicalID, arn)
		}
	}

	for _, f := range t.Functions {
		vars, err := r.ResolveMap(f.Environment)
		if err != nil {
			return nil, fmt.Errorf("function %s environment: %w", f.LogicalID, err)
		}
		env.functionEnv[f.LogicalID] = vars
	}
	return env, nil
}

// provisionSecret creates a secret with the value its SecretString gives
// or, as CloudFormation does, one its GenerateSecretString makes (a random
// alphanumeric string, set under GenerateStringKey in the
// SecretStringTemplate's JSON when it has one). A secret that exists keeps
// its value (a rotation done against the emulator survives a re-provision),
// unless WithSecretValues gives it one.
func provisionSecret(ctx context.Context, c *secretsmanager.Client, r *Resolver, res Resource) (string, error) {
	name, err := r.physicalName(res)
	if err != nil {
		return "", err
	}
	pv, err := r.ResolveValue(res.Properties)
	if err != nil {
		return "", err
	}
	p, _ := pv.(map[string]any)
	value, err := secretValue(p)
	if err != nil {
		return "", err
	}
	given, isGiven := r.secretValues[res.LogicalID]
	if isGiven {
		value = given
	}
	out, err := c.CreateSecret(ctx, &secretsmanager.CreateSecretInput{Name: aws.String(name), SecretString: aws.String(value)})
	var exists *smtypes.ResourceExistsException
	switch {
	case err == nil:
		return aws.ToString(out.ARN), nil
	case errors.As(err, &exists):
		d, err := c.DescribeSecret(ctx, &secretsmanager.DescribeSecretInput{SecretId: aws.String(name)})
		if err != nil {
			return "", err
		}
		if isGiven {
			if _, err := c.PutSecretValue(ctx, &secretsmanager.PutSecretValueInput{SecretId: d.ARN, SecretString: aws.String(value)}); err != nil {
				return "", err
			}
		}
		return aws.ToString(d.ARN), nil
	}
	return "", err
}

// secretValue is a secret's initial value from its resolved properties.
func secretValue(p map[string]any) (string, error) {
	if v, ok := p["SecretString"]; ok {
		return str(v), nil
	}
	gen, ok := p["GenerateSecretString"].(map[string]any)
	if !ok {
		return "", errors.New("neither SecretString nor GenerateSecretString")
	}
	if punct := gen["ExcludePunctuation"]; punct != nil && !truthy(punct) {
		return "", errors.New("GenerateSecretString: only ExcludePunctuation: true is generated locally")
	}
	n := 32 // CloudFormation's default PasswordLength
	if l := intOf(gen["PasswordLength"]); l > 0 {
		n = l
	}
	random := ""
	for len(random) < n {
		random += GenerateSecret()
	}
	random = random[:n]
	tmpl, key := str(gen["SecretStringTemplate"]), str(gen["GenerateStringKey"])
	if tmpl == "" || key == "" {
		return random, nil
	}
	var doc map[string]any
	if err := json.Unmarshal([]byte(tmpl), &doc); err != nil {
		return "", fmt.Errorf("SecretStringTemplate: %w", err)
	}
	doc[key] = random
	b, err := json.Marshal(doc)
	return string(b), err
}

// queueOrder sorts queues so that a queue comes after the queues it refers to
// (its dead-letter queue).
func queueOrder(qs []Resource) ([]Resource, error) {
	byID := map[string]Resource{}
	for _, q := range qs {
		byID[q.LogicalID] = q
	}
	var out []Resource
	state := map[string]int{} // 1 visiting, 2 done
	var visit func(Resource) error
	visit = func(q Resource) error {
		switch state[q.LogicalID] {
		case 1:
			return fmt.Errorf("queue %s: circular reference", q.LogicalID)
		case 2:
			return nil
		}
		state[q.LogicalID] = 1
		for _, dep := range references(q.Properties) {
			if d, ok := byID[dep]; ok && dep != q.LogicalID {
				if err := visit(d); err != nil {
					return err
				}
			}
		}
		state[q.LogicalID] = 2
		out = append(out, q)
		return nil
	}
	for _, q := range qs {
		if err := visit(q); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// convert copies a resolved property value into an SDK type through JSON
// (the SDK's field names match CloudFormation's for these shapes).
func convert(src, dst any) error {
	b, err := json.Marshal(src)
	if err != nil {
		return err
	}
	return json.Unmarshal(b, dst)
}

func provisionTable(ctx context.Context, c *dynamodb.Client, r *Resolver, res Resource) (Table, error) {
	name, err := r.physicalName(res)
	if err != nil {
		return Table{}, err
	}
	pv, err := r.ResolveValue(res.Properties)
	if err != nil {
		return Table{}, err
	}
	p, _ := pv.(map[string]any)
	in := &dynamodb.CreateTableInput{TableName: aws.String(name)}
	if err := convert(p["AttributeDefinitions"], &in.AttributeDefinitions); err != nil {
		return Table{}, fmt.Errorf("AttributeDefinitions: %w", err)
	}
	if err := convert(p["KeySchema"], &in.KeySchema); err != nil {
		return Table{}, fmt.Errorf("KeySchema: %w", err)
	}
	if v, ok := p["GlobalSecondaryIndexes"]; ok {
		if err := convert(numbersAsInts(v), &in.GlobalSecondaryIndexes); err != nil {
			return Table{}, fmt.Errorf("GlobalSecondaryIndexes: %w", err)
		}
	}
	if v, ok := p["LocalSecondaryIndexes"]; ok {
		if err := convert(v, &in.LocalSecondaryIndexes); err != nil {
			return Table{}, fmt.Errorf("LocalSecondaryIndexes: %w", err)
		}
	}
	if v, ok := p["ProvisionedThroughput"]; ok {
		in.ProvisionedThroughput = &ddbtypes.ProvisionedThroughput{}
		if err := convert(numbersAsInts(v), in.ProvisionedThroughput); err != nil {
			return Table{}, fmt.Errorf("ProvisionedThroughput: %w", err)
		}
	}
	switch bm := str(p["BillingMode"]); {
	case bm != "":
		in.BillingMode = ddbtypes.BillingMode(bm)
	case in.ProvisionedThroughput == nil:
		in.BillingMode = ddbtypes.BillingModePayPerRequest
	default:
		in.BillingMode = ddbtypes.BillingModeProvisioned
	}
	if ss, ok := p["StreamSpecification"].(map[string]any); ok {
		in.StreamSpecification = &ddbtypes.StreamSpecification{
			StreamEnabled:  aws.Bool(true),
			StreamViewType: ddbtypes.StreamViewType(str(ss["StreamViewType"])),
		}
	}

	var arn string
	out, err := c.CreateTable(ctx, in)
	var inUse *ddbtypes.ResourceInUseException
	switch {
	case err == nil:
		arn = aws.ToString(out.TableDescription.TableArn)
	case errors.As(err, &inUse):
	default:
		return Table{}, err
	}
	if err := dynamodb.NewTableExistsWaiter(c).Wait(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(name)}, 30*time.Second,
		func(o *dynamodb.TableExistsWaiterOptions) { o.MinDelay, o.MaxDelay = 100*time.Millisecond, time.Second }); err != nil {
		return Table{}, err
	}
	if arn == "" {
		d, err := c.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(name)})
		if err != nil {
			return Table{}, err
		}
		arn = aws.ToString(d.Table.TableArn)
	}

	if ttl, ok := p["TimeToLiveSpecification"].(map[string]any); ok && truthy(ttl["Enabled"]) {
		attr := str(ttl["AttributeName"])
		cur, err := c.DescribeTimeToLive(ctx, &dynamodb.DescribeTimeToLiveInput{TableName: aws.String(name)})
		already := err == nil && cur.TimeToLiveDescription != nil &&
			cur.TimeToLiveDescription.TimeToLiveStatus == ddbtypes.TimeToLiveStatusEnabled &&
			aws.ToString(cur.TimeToLiveDescription.AttributeName) == attr
		if !already {
			_, err := c.UpdateTimeToLive(ctx, &dynamodb.UpdateTimeToLiveInput{
				TableName:               aws.String(name),
				TimeToLiveSpecification: &ddbtypes.TimeToLiveSpecification{AttributeName: aws.String(attr), Enabled: aws.Bool(true)},
			})
			if err != nil && !strings.Contains(err.Error(), "already enabled") {
				return Table{}, fmt.Errorf("UpdateTimeToLive: %w", err)
			}
		}
	}
	return Table{LogicalID: res.LogicalID, Name: name, ARN: arn}, nil
}

// numbersAsInts turns float64 values that are whole into ints (for int64 SDK fields).
func numbersAsInts(v any) any {
	switch x := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = numbersAsInts(e)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = numbersAsInts(e)
		}
		return out
	case string:
		// CloudFormation accepts "5" for a number.
		if i := intOf(x); i != 0 && scalarString(i) == x {
			return i
		}
	}
	return v
}

// queueAttributeNames maps AWS::SQS::Queue properties to SQS attribute names.
var queueAttributeNames = []string{
	"ContentBasedDeduplication", "DeduplicationScope", "DelaySeconds", "FifoQueue",
	"FifoThroughputLimit", "KmsDataKeyReusePeriodSeconds", "KmsMasterKeyId",
	"MaximumMessageSize", "MessageRetentionPeriod", "ReceiveMessageWaitTimeSeconds",
	"RedriveAllowPolicy", "RedrivePolicy", "SqsManagedSseEnabled", "VisibilityTimeout",
}

func provisionQueue(ctx context.Context, c *sqs.Client, r *Resolver, res Resource) (Queue, error) {
	name, err := r.physicalName(res)
	if err != nil {
		return Queue{}, err
	}
	pv, err := r.ResolveValue(res.Properties)
	if err != nil {
		return Queue{}, err
	}
	p, _ := pv.(map[string]any)
	attrs := map[string]string{}
	for _, a := range queueAttributeNames {
		v, ok := p[a]
		if !ok || v == nil {
			continue
		}
		switch x := v.(type) {
		case map[string]any, []any:
			b, err := json.Marshal(x)
			if err != nil {
				return Queue{}, err
			}
			attrs[a] = string(b)
		default:
			attrs[a] = scalarString(x)
		}
	}
	if strings.HasSuffix(name, ".fifo") {
		attrs["FifoQueue"] = "true"
	}
	var url string
	out, err := c.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String(name), Attributes: attrs})
	var exists *sqstypes.QueueNameExists
	switch {
	case err == nil:
		url = aws.ToString(out.QueueUrl)
	case errors.As(err, &exists) || strings.Contains(err.Error(), "QueueAlreadyExists"):
		got, gerr := c.GetQueueUrl(ctx, &sqs.GetQueueUrlInput{QueueName: aws.String(name)})
		if gerr != nil {
			return Queue{}, fmt.Errorf("%w (and GetQueueUrl: %v)", err, gerr)
		}
		url = aws.ToString(got.QueueUrl)
		delete(attrs, "FifoQueue")
		if len(attrs) > 0 {
			if _, err := c.SetQueueAttributes(ctx, &sqs.SetQueueAttributesInput{QueueUrl: aws.String(url), Attributes: attrs}); err != nil {
				return Queue{}, fmt.Errorf("SetQueueAttributes: %w", err)
			}
		}
	default:
		return Queue{}, err
	}
	ga, err := c.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{
		QueueUrl:       aws.String(url),
		AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameQueueArn},
	})
	if err != nil {
		return Queue{}, fmt.Errorf("GetQueueAttributes: %w", err)
	}
	return Queue{LogicalID: res.LogicalID, Name: name, URL: url, ARN: ga.Attributes["QueueArn"]}, nil
}

// SortedKeys returns the keys of a map in order (handy for printing environments).
func SortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// provisionKey creates a KMS key of the template's spec and usage (the
// signatures' CA key and data-key key). Each provisioning makes new keys:
// the emulator's state is per run, and a new CA key is a new CA, which the
// first request then certifies (shared/signatures).
func provisionKey(ctx context.Context, c *kms.Client, res Resource) (*kmstypes.KeyMetadata, error) {
	in := &kms.CreateKeyInput{Description: aws.String(res.LogicalID)}
	if spec, ok := res.Properties["KeySpec"].(string); ok {
		in.KeySpec = kmstypes.KeySpec(spec)
	}
	if usage, ok := res.Properties["KeyUsage"].(string); ok {
		in.KeyUsage = kmstypes.KeyUsageType(usage)
	}
	out, err := c.CreateKey(ctx, in)
	if err != nil {
		return nil, err
	}
	return out.KeyMetadata, nil
}

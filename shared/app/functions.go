package app

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"os"
	"slices"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/kabinet/kabinet/shared/api"
	"github.com/kabinet/kabinet/shared/cabinets"
	"github.com/kabinet/kabinet/shared/domain"
	"github.com/kabinet/kabinet/shared/httpapi"
	"github.com/kabinet/kabinet/shared/idempotency"
	"github.com/kabinet/kabinet/shared/notify"
	"github.com/kabinet/kabinet/shared/platform"
	"github.com/kabinet/kabinet/shared/requests"
	"github.com/kabinet/kabinet/shared/security"
	"github.com/kabinet/kabinet/shared/sqsbatch"
	"github.com/kabinet/kabinet/shared/sqsqueue"
	"github.com/kabinet/kabinet/shared/usage"
)

// function is one function of template.yaml: the environment it reads and
// how its handler is built.
type function struct {
	reads []reader
	build func(Deps) (any, error)
}

// Function is one function of template.yaml, for Run.
type Function struct {
	name string
	function
}

// Auth is AuthFunction. Its main runs it with Run rather than Main, so that
// its binary links only what it builds: Main's table of every function
// links every use case into every binary (AuthFunction was 1.56× the size of
// sdkhello that way, and is 1.43× without).
func Auth() Function {
	return Function{"AuthFunction", function{[]reader{readTable, readQueue, readTokens, readSigningKeys, readCodePepper, readOnboarding},
		func(d Deps) (any, error) { return serve(AuthFunction(d)) }}}
}

// SignaturesFn is SignaturesFunction, run by its main with Run and the
// KMS keys (Deps.DataKeys, Deps.CASigner), so that it links only its own
// use cases. It is not in Main's table
// (functions), so that the other functions' binaries do not link the
// signature code (esign, CMS, the KMS client: 1.75 MiB).
func SignaturesFn() Function {
	return Function{"SignaturesFunction", function{[]reader{readTable, readQueue, readTokens, readCodePepper, readOnboarding,
		readSignatureKeys}, func(d Deps) (any, error) { return serve(SignaturesFunction(d)) }}}
}

// functions are the functions of template.yaml, by logical id. It is made
// by a function, not kept in a variable, so that a binary linking only Run
// (not Main) does not link it.
func functions() map[string]function {
	return map[string]function{
		"ConnectFunction": {[]reader{readTable, readOnboarding},
			func(d Deps) (any, error) { return serve(ConnectFunction(d)) }},
		"AuthFunction": Auth().function,
		"AccountFunction": {[]reader{readTable, readTokens, readSigningKeys},
			func(d Deps) (any, error) { return serve(AccountFunction(d)) }},
		"CabinetsFunction": {[]reader{readTable, readQueue, readPublicBaseURL, readTokens},
			func(d Deps) (any, error) { return serve(CabinetsFunction(d)) }},
		"EmployeesFunction": {[]reader{readTable, readTokens},
			func(d Deps) (any, error) { return serve(EmployeesFunction(d)) }},
		"InvitationJobFunction": {[]reader{readTable, readQueue, readPublicBaseURL},
			func(d Deps) (any, error) { return InvitationJobFunction(d) }},
		"NoticesFunction": {[]reader{readTable, readQueue, readPublicBaseURL, readTokens},
			func(d Deps) (any, error) { return serve(NoticesFunction(d)) }},
		"NotifierFunction": {[]reader{readTable, readQueue, readSender},
			func(d Deps) (any, error) { return NotifierFunction(d) }},
		"OutboxFunction": {[]reader{readTable, readQueue},
			func(d Deps) (any, error) { return OutboxFunction(d) }},
		"PublicationFunction": {[]reader{readTable, readQueue, readPublicBaseURL},
			func(d Deps) (any, error) { return serve(PublicationFunction(d)) }},
		"RequestJobFunction": {[]reader{readTable, readQueue, readPublicBaseURL},
			func(d Deps) (any, error) { return RequestJobFunction(d) }},
		"RequestsFunction": {[]reader{readTable, readQueue, readPublicBaseURL, readTokens},
			func(d Deps) (any, error) { return serve(RequestsFunction(d)) }},
		"OperatorFunction": {[]reader{readTable, readOperatorToken},
			func(d Deps) (any, error) { return serve(OperatorFunction(d)) }},
		"UsageJobFunction": {[]reader{readTable},
			func(d Deps) (any, error) { return UsageJobFunction(d) }},
	}
}

// standalone are the functions whose mains run them with Run and which
// Main's table leaves out, so that they do not grow every other binary;
// tests check them with the rest.
func standalone() map[string]function {
	return map[string]function{"SignaturesFunction": SignaturesFn().function}
}

// Names are the logical ids of the functions Main can run.
func Names() []string {
	fns := functions()
	names := make([]string, 0, len(fns))
	for n := range fns {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

func serve(r *httpapi.Router, err error) (any, error) {
	if err != nil {
		return nil, err
	}
	return r.Serve, nil
}

// Main runs the function of template.yaml named by its logical id: it reads
// the function's configuration once, stops at init naming every missing or
// bad variable, builds the clients and the handler, and starts. with adds
// what only some functions link (the phone parser, the SMS and e-mail
// sender).
func Main(name string, with ...func(aws.Config, *Deps)) {
	f, ok := functions()[name]
	if !ok {
		platform.Fatal("unknown function", errors.New(name))
	}
	Run(Function{name, f}, with...)
}

// Run runs f as Main runs a function by name, linking only f's builder.
func Run(f Function, with ...func(aws.Config, *Deps)) {
	log := platform.NewLogger()
	// Business metrics as EMF log lines: the stage's total (what the dashboard
	// draws, so dev and prod never add up) and each function's share.
	platform.SetMetrics(platform.NewEMF(os.Stdout, platform.MetricsNamespace,
		map[string]string{"Stage": os.Getenv("STAGE"), "FunctionName": os.Getenv("AWS_LAMBDA_FUNCTION_NAME")},
		[]string{"Stage"}, []string{"Stage", "FunctionName"}))
	name := f.name
	env := &platform.Env{}
	c := Defaults()
	for _, r := range f.reads {
		r(env, &c)
	}
	if err := env.Err(); err != nil {
		platform.Fatal("invalid configuration", err)
	}
	cfg := AWSConfig(context.Background())
	d := Deps{Log: log, Stores: DynamoStores(dynamodb.NewFromConfig(cfg), c.Table), Clock: Clock(), IDs: platform.NewULIDs(), Config: c}
	if c.QueueURL != "" {
		d.Queue = sqsqueue.New(sqs.NewFromConfig(cfg), c.QueueURL)
	}
	for _, w := range with {
		w(cfg, &d)
	}
	if c.Secrets.TokenPublicKeys != "" && d.Config.Tokens == nil || c.Secrets.CodePepper != "" && d.Config.CodeHasher == nil ||
		c.Secrets.OperatorToken != "" && d.Config.Operator == nil {
		platform.Fatal("build "+name, errors.New("it reads secrets, but its main does not pass app.Secrets(awssecrets.New)"))
	}
	h, err := f.build(d)
	if err != nil {
		platform.Fatal("build "+name, err)
	}
	lambda.Start(h)
}

// logger is d.Log, or the default logger.
func (d Deps) logger() *slog.Logger {
	if d.Log != nil {
		return d.Log
	}
	return slog.Default()
}

// ConnectFunction builds the function's handler: POST /v1/organizations.
func ConnectFunction(d Deps) (*httpapi.Router, error) {
	p := &parts{d: d}
	svc := part(p, Connection)
	return done(p, func() *httpapi.Router { return api.ConnectRoutes(d.logger(), svc) })
}

// AuthFunction builds the function's handler: one-time codes, password
// setup, sign-in and refresh, the employee's cabinet activation by
// invitation, and the public keys that verify access tokens (JWKS).
func AuthFunction(d Deps) (*httpapi.Router, error) {
	p := &parts{d: d}
	svc, cab := part(p, Credentials), part(p, Activations)
	return done(p, func() *httpapi.Router {
		r := api.AuthRoutes(d.logger(), svc, cab)
		r.Handle("GET /.well-known/jwks.json", jwks(d.Config.Tokens))
		return r
	})
}

// jwks answers the public keys that verify access tokens, for whoever
// checks them outside the functions. Caches may keep it for the secrets'
// TTL: a key is published that long before it signs.
func jwks(tokens *security.AccessTokens) httpapi.HandlerFunc {
	return func(context.Context, *httpapi.Request) (httpapi.Response, error) {
		set, err := tokens.JWKS()
		if err != nil {
			return httpapi.Response{}, err
		}
		return httpapi.Response{Status: http.StatusOK, Body: set,
			Headers: map[string]string{"cache-control": "public, max-age=300"}}, nil
	}
}

// AccountFunction builds the function's handler: GET /v1/me (with an
// employee's published consent), the employee's preferred channel, the
// organization's API keys, its service period and usage statistics setting.
func AccountFunction(d Deps) (*httpapi.Router, error) {
	p := &parts{d: d}
	svc, cab, dir, tokens, us := part(p, Account), part(p, Preferences), part(p, Directory), part(p, verifier), part(p, Usage)
	return done(p, func() *httpapi.Router {
		r := api.AccountRoutes(d.logger(), svc, cab, dir, tokens)
		api.ServiceRoutes(r, us, tokens)
		return r
	})
}

// CabinetsFunction builds the function's handler: the responsible person's
// cabinet administration (list, counts, bulk actions), cabinet settings and
// КЭДО settings.
func CabinetsFunction(d Deps) (*httpapi.Router, error) {
	p := &parts{d: d}
	svc, edo, tokens, idem := part(p, Administration), part(p, EDO), part(p, verifier), part(p, idempotencyStore)
	return done(p, func() *httpapi.Router { return api.CabinetsRoutes(d.logger(), svc, edo, tokens, idem) })
}

// EmployeesFunction builds the function's handler: the responsible person
// lists and views published employees.
func EmployeesFunction(d Deps) (*httpapi.Router, error) {
	p := &parts{d: d}
	dir, tokens := part(p, Directory), part(p, verifier)
	return done(p, func() *httpapi.Router { return api.EmployeesRoutes(d.logger(), dir, tokens) })
}

// InvitationJobFunction builds the function's handler: on a schedule, sends
// automatic invitations and reminders and marks expired invitations.
func InvitationJobFunction(d Deps) (func(context.Context, json.RawMessage) (cabinets.JobReport, error), error) {
	p := &parts{d: d}
	job := part(p, InvitationJob)
	return done(p, func() func(context.Context, json.RawMessage) (cabinets.JobReport, error) {
		return api.InvitationJob(job)
	})
}

// NoticesFunction builds the function's handler: the employer system
// announces notices (payslip ready, vacation schedule) by API key; the
// responsible person reads the notification list and sets the notification
// settings and templates.
func NoticesFunction(d Deps) (*httpapi.Router, error) {
	p := &parts{d: d}
	svc, keys, tokens, idem := part(p, Notices), part(p, APIKeys), part(p, verifier), part(p, idempotencyStore)
	return done(p, func() *httpapi.Router { return api.NoticesRoutes(d.logger(), svc, keys, tokens, idem) })
}

// NotifierFunction builds the function's handler: sends the notifications
// queue's messages by SMS and e-mail.
func NotifierFunction(d Deps) (func(context.Context, events.SQSEvent) (events.SQSEventResponse, error), error) {
	p := &parts{d: d}
	n := part(p, Notifier)
	return done(p, func() func(context.Context, events.SQSEvent) (events.SQSEventResponse, error) {
		return sqsbatch.Handler(n.DeliverJSON)
	})
}

// OutboxFunction builds the function's handler: on a schedule, queues
// staged notifications that are due (never queued, or held for quiet
// hours).
func OutboxFunction(d Deps) (func(context.Context, json.RawMessage) (notify.DrainReport, error), error) {
	p := &parts{d: d}
	o := part(p, Outbox)
	return done(p, func() func(context.Context, json.RawMessage) (notify.DrainReport, error) { return api.OutboxJob(o) })
}

// PublicationFunction builds the function's handler: the employer system
// publishes departments, employees and the director, by API key.
func PublicationFunction(d Deps) (*httpapi.Router, error) {
	p := &parts{d: d}
	pub, dir, keys, idem := part(p, Publishing), part(p, Directory), part(p, APIKeys), part(p, idempotencyStore)
	return done(p, func() *httpapi.Router { return api.PublicationRoutes(d.logger(), pub, dir, keys, idem) })
}

// RequestJobFunction builds the function's handler: on a schedule, reminds
// approvers of requests waiting past the reminder time and escalates those
// waiting past the escalation time to the next approver up.
func RequestJobFunction(d Deps) (func(context.Context, json.RawMessage) (requests.JobReport, error), error) {
	p := &parts{d: d}
	job := part(p, Escalation)
	return done(p, func() func(context.Context, json.RawMessage) (requests.JobReport, error) { return api.RequestJob(job) })
}

// RequestsFunction builds the function's handler: employees' requests
// (заявления) and their approvals, processing, deputies, and the
// responsible person's request settings.
func RequestsFunction(d Deps) (*httpapi.Router, error) {
	p := &parts{d: d}
	svc, tokens, idem := part(p, Requests), part(p, verifier), part(p, idempotencyStore)
	return done(p, func() *httpapi.Router { return api.RequestsRoutes(d.logger(), svc, tokens, idem) })
}

// SignaturesFunction builds the function's handler: the employee's
// signature (code, create, profile, sign, renew, events), the responsible
// person's view of an employee's signature events, and the public CA
// certificate and CRL.
func SignaturesFunction(d Deps) (*httpapi.Router, error) {
	p := &parts{d: d}
	svc, tokens := part(p, Signatures), part(p, verifier)
	return done(p, func() *httpapi.Router { return api.SignaturesRoutes(d.logger(), svc, tokens) })
}

// parts builds the parts of one function from the same Deps and keeps the
// first error, so that a function's builder reads as the list of what it
// serves.
type parts struct {
	d   Deps
	err error
}

// part builds one part, unless an earlier one failed.
func part[T any](p *parts, build func(Deps) (T, error)) T {
	var zero T
	if p.err != nil {
		return zero
	}
	v, err := build(p.d)
	p.err = err
	return v
}

// done assembles the handler once every part is built, or answers the
// first failure.
func done[H any](p *parts, assemble func() H) (H, error) {
	if p.err != nil {
		var zero H
		return zero, p.err
	}
	return assemble(), nil
}

// idempotencyStore is the store of Idempotency-Key answers, which every
// function with retried writes needs.
func idempotencyStore(d Deps) (idempotency.Store, error) {
	return d.Stores.Idempotency, platform.Required("app", "Stores.Idempotency", d.Stores.Idempotency)
}

// verifier checks access tokens against the functions' clock.
func verifier(d Deps) (api.Verifier, error) {
	if err := platform.Required("app.verifier", "tokens", d.Config.Tokens, "clock", d.Clock); err != nil {
		return api.Verifier{}, err
	}
	return api.Verifier{Tokens: d.Config.Tokens, Clock: d.Clock}, nil
}

// Phones gives a function the phone parser: only the functions that
// validate phones (connection, publication) pass it, so only they link
// libphonenumber.
func Phones(parse func(raw string, allowForeign bool) (domain.Phone, error)) func(aws.Config, *Deps) {
	return func(_ aws.Config, d *Deps) { d.ParsePhone = parse }
}

// OperatorFunction builds the function's handler: the deployment's
// operator lists organizations with their service period and statistics,
// and extends or activates a period, by the operator token.
func OperatorFunction(d Deps) (*httpapi.Router, error) {
	p := &parts{d: d}
	svc := part(p, Usage)
	if d.Config.Operator == nil {
		return nil, errors.New("OperatorFunction: the operator token is not configured")
	}
	return done(p, func() *httpapi.Router { return api.OperatorRoutes(d.logger(), svc, d.Config.Operator) })
}

// UsageJobFunction builds the function's handler: once a day, the usage
// aggregates of the day that ended, for the organizations that allow them.
func UsageJobFunction(d Deps) (func(context.Context, json.RawMessage) (usage.JobReport, error), error) {
	p := &parts{d: d}
	svc := part(p, Usage)
	return done(p, func() func(context.Context, json.RawMessage) (usage.JobReport, error) { return api.UsageJob(svc) })
}

package app

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
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
	"github.com/kabinet/kabinet/shared/notify"
	"github.com/kabinet/kabinet/shared/platform"
	"github.com/kabinet/kabinet/shared/requests"
	"github.com/kabinet/kabinet/shared/sqsbatch"
	"github.com/kabinet/kabinet/shared/sqsqueue"
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
	return Function{"AuthFunction", function{[]reader{readTable, readQueue, readTokens, readCodePepper, readOnboarding},
		func(d Deps) (any, error) { return serve(AuthFunction(d)) }}}
}

// functions are the functions of template.yaml, by logical id. It is made
// by a function, not kept in a variable, so that a binary linking only Run
// (not Main) does not link it.
func functions() map[string]function {
	return map[string]function{
		"ConnectFunction": {[]reader{readTable, readOnboarding},
			func(d Deps) (any, error) { return serve(ConnectFunction(d)) }},
		"AuthFunction": Auth().function,
		"AccountFunction": {[]reader{readTable, readTokens},
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
	}
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
	svc, err := Connection(d)
	if err != nil {
		return nil, err
	}
	return api.ConnectRoutes(d.logger(), svc), nil
}

// AuthFunction builds the function's handler: one-time codes, password setup, sign-in and refresh, and
// the employee's cabinet activation by invitation.
func AuthFunction(d Deps) (*httpapi.Router, error) {
	svc, err := Credentials(d)
	if err != nil {
		return nil, err
	}
	cab, err := Activations(d)
	if err != nil {
		return nil, err
	}
	return api.AuthRoutes(d.logger(), svc, cab), nil
}

// AccountFunction builds the function's handler: GET /v1/me, the employee's preferred channel and the
// organization's API keys.
func AccountFunction(d Deps) (*httpapi.Router, error) {
	svc, err := Account(d)
	if err != nil {
		return nil, err
	}
	cab, err := Preferences(d)
	if err != nil {
		return nil, err
	}
	tokens, err := verifier(d)
	if err != nil {
		return nil, err
	}
	return api.AccountRoutes(d.logger(), svc, cab, tokens), nil
}

// CabinetsFunction builds the function's handler: the responsible person's cabinet administration (list,
// counts, bulk actions) and cabinet settings.
func CabinetsFunction(d Deps) (*httpapi.Router, error) {
	svc, err := Administration(d)
	if err != nil {
		return nil, err
	}
	tokens, err := verifier(d)
	if err != nil {
		return nil, err
	}
	if err := platform.Required("app", "Stores.Idempotency", d.Stores.Idempotency); err != nil {
		return nil, err
	}
	return api.CabinetsRoutes(d.logger(), svc, tokens, d.Stores.Idempotency), nil
}

// EmployeesFunction builds the function's handler: the responsible person lists and views published employees.
func EmployeesFunction(d Deps) (*httpapi.Router, error) {
	dir, err := Directory(d)
	if err != nil {
		return nil, err
	}
	tokens, err := verifier(d)
	if err != nil {
		return nil, err
	}
	return api.EmployeesRoutes(d.logger(), dir, tokens), nil
}

// InvitationJobFunction builds the function's handler: on a schedule, sends automatic invitations and
// reminders and marks expired invitations.
func InvitationJobFunction(d Deps) (func(context.Context, json.RawMessage) (cabinets.JobReport, error), error) {
	job, err := InvitationJob(d)
	if err != nil {
		return nil, err
	}
	return api.InvitationJob(job), nil
}

// NoticesFunction builds the function's handler: the employer system announces notices (payslip ready,
// vacation schedule) by API key; the responsible person reads the
// notification list and sets the notification settings and templates.
func NoticesFunction(d Deps) (*httpapi.Router, error) {
	svc, err := Notices(d)
	if err != nil {
		return nil, err
	}
	keys, err := APIKeys(d)
	if err != nil {
		return nil, err
	}
	tokens, err := verifier(d)
	if err != nil {
		return nil, err
	}
	if err := platform.Required("app", "Stores.Idempotency", d.Stores.Idempotency); err != nil {
		return nil, err
	}
	return api.NoticesRoutes(d.logger(), svc, keys, tokens, d.Stores.Idempotency), nil
}

// NotifierFunction builds the function's handler: sends the notifications queue's messages by SMS and e-mail.
func NotifierFunction(d Deps) (func(context.Context, events.SQSEvent) (events.SQSEventResponse, error), error) {
	n, err := Notifier(d)
	if err != nil {
		return nil, err
	}
	return sqsbatch.Handler(n.DeliverJSON), nil
}

// OutboxFunction builds the function's handler: on a schedule, queues staged notifications that are due
// (never queued, or held for quiet hours).
func OutboxFunction(d Deps) (func(context.Context, json.RawMessage) (notify.DrainReport, error), error) {
	o, err := Outbox(d)
	if err != nil {
		return nil, err
	}
	return api.OutboxJob(o), nil
}

// PublicationFunction builds the function's handler: the employer system publishes departments, employees
// and the director, by API key.
func PublicationFunction(d Deps) (*httpapi.Router, error) {
	pub, err := Publishing(d)
	if err != nil {
		return nil, err
	}
	dir, err := Directory(d)
	if err != nil {
		return nil, err
	}
	keys, err := APIKeys(d)
	if err != nil {
		return nil, err
	}
	if err := platform.Required("app", "Stores.Idempotency", d.Stores.Idempotency); err != nil {
		return nil, err
	}
	return api.PublicationRoutes(d.logger(), pub, dir, keys, d.Stores.Idempotency), nil
}

// RequestJobFunction builds the function's handler: on a schedule, reminds approvers of requests waiting
// past the reminder time and escalates those waiting past the escalation
// time to the next approver up.
func RequestJobFunction(d Deps) (func(context.Context, json.RawMessage) (requests.JobReport, error), error) {
	job, err := Escalation(d)
	if err != nil {
		return nil, err
	}
	return api.RequestJob(job), nil
}

// RequestsFunction builds the function's handler: employees' requests (заявления) and their approvals,
// processing, deputies, and the responsible person's request settings.
func RequestsFunction(d Deps) (*httpapi.Router, error) {
	svc, err := Requests(d)
	if err != nil {
		return nil, err
	}
	tokens, err := verifier(d)
	if err != nil {
		return nil, err
	}
	if err := platform.Required("app", "Stores.Idempotency", d.Stores.Idempotency); err != nil {
		return nil, err
	}
	return api.RequestsRoutes(d.logger(), svc, tokens, d.Stores.Idempotency), nil
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

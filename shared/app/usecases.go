package app

import (
	"log/slog"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/kabinet/kabinet/shared/cabinets"
	"github.com/kabinet/kabinet/shared/dynamostore"
	"github.com/kabinet/kabinet/shared/notices"
	"github.com/kabinet/kabinet/shared/notify"
	"github.com/kabinet/kabinet/shared/onboarding"
	"github.com/kabinet/kabinet/shared/otp"
	"github.com/kabinet/kabinet/shared/platform"
	"github.com/kabinet/kabinet/shared/publication"
	"github.com/kabinet/kabinet/shared/requests"
)

// Deps are what every builder takes: the outside world, or stand-ins for
// it in tests. A builder refuses (with an error) what it needs and lacks.
type Deps struct {
	Log *slog.Logger
	DB  *dynamodb.Client
	// Queue is the notifications queue: SQS, or a recorder in tests.
	Queue notify.Queue
	// Sender sends SMS and e-mail (NotifierFunction only).
	Sender notify.Sender
	// ParsePhone parses mobile numbers (shared/phone.ParseMobile). It is
	// given only to the functions that parse phones, so that the others do
	// not link libphonenumber and pay for its start-up.
	ParsePhone onboarding.PhoneParser
	Clock      platform.Clock
	IDs        platform.IDs
	Config     Config
}

// store is the DynamoDB store of the onboarding records, the limiter's
// counters, the ledger and idempotency.
func (d Deps) store() *dynamostore.Store { return dynamostore.New(d.DB, d.Config.Table) }

func (d Deps) cabinetsStore() *dynamostore.Cabinets {
	return dynamostore.NewCabinets(d.DB, d.Config.Table)
}

func (d Deps) cabinetsConfig() cabinets.Config {
	return cabinets.Config{PublicBaseURL: d.Config.PublicBaseURL, Argon2: d.Config.Onboarding.Argon2}
}

func (d Deps) requestsConfig() requests.Config {
	return requests.Config{PublicBaseURL: d.Config.PublicBaseURL, JobPage: d.Config.RequestJobPage}
}

// Codes are the one-time codes, under the onboarding flow's code rules.
func Codes(d Deps) (*otp.Codes, error) {
	store := d.store()
	return otp.NewCodes(store, dynamostore.NewLimiter(store), d.Queue, d.Config.CodeHasher, d.Clock, d.IDs, d.Config.Onboarding.CodeRules())
}

// Connection connects organizations.
func Connection(d Deps) (*onboarding.Connection, error) {
	store := d.store()
	return onboarding.NewConnection(store, dynamostore.NewLimiter(store), d.ParsePhone, d.Clock, d.IDs, d.Config.Onboarding)
}

// Credentials: codes, password setup, sign-in and refresh.
func Credentials(d Deps) (*onboarding.Credentials, error) {
	codes, err := Codes(d)
	if err != nil {
		return nil, err
	}
	store := d.store()
	return onboarding.NewCredentials(store, dynamostore.NewLimiter(store), codes, d.Config.Tokens, d.ParsePhone, d.Clock, d.IDs,
		d.Config.Onboarding)
}

// Account: who am I, and the organization's API keys.
func Account(d Deps) (*onboarding.Account, error) {
	return onboarding.NewAccount(d.store(), d.Clock, d.IDs, d.Config.Onboarding)
}

// APIKeys checks the employer system's API keys.
func APIKeys(d Deps) (*onboarding.APIKeys, error) { return onboarding.NewAPIKeys(d.store()) }

// Activations: the employee's cabinet activation by invitation, with codes
// under the same rules as onboarding's.
func Activations(d Deps) (*cabinets.Activations, error) {
	codes, err := Codes(d)
	if err != nil {
		return nil, err
	}
	return cabinets.NewActivations(d.cabinetsStore(), codes, d.Clock, d.IDs, d.cabinetsConfig())
}

// Administration: the responsible person's cabinet administration.
func Administration(d Deps) (*cabinets.Administration, error) {
	return cabinets.NewAdministration(d.cabinetsStore(), d.Queue, d.Clock, d.IDs, d.cabinetsConfig())
}

// InvitationJob: automatic invitations, reminders and expiry.
func InvitationJob(d Deps) (*cabinets.InvitationJob, error) {
	return cabinets.NewInvitationJob(d.cabinetsStore(), d.Queue, d.Clock, d.IDs, d.cabinetsConfig())
}

// DeliveryReports take invitation results back to the cabinet; an
// undeliverable invitation SMS is replaced by its e-mail, staged and queued.
func DeliveryReports(d Deps) (*cabinets.DeliveryReports, error) {
	return cabinets.NewDeliveryReports(d.cabinetsStore(), d.Queue, d.Clock)
}

// PublicationSync keeps cabinets in step with published employees.
func PublicationSync(d Deps) (*cabinets.PublicationSync, error) {
	return cabinets.NewPublicationSync(d.cabinetsStore())
}

// Preferences: the employee's cabinet and preferred channel.
func Preferences(d Deps) (*cabinets.Preferences, error) {
	return cabinets.NewPreferences(d.cabinetsStore(), d.Clock)
}

// Requests: employees' requests, approvals, processing and settings.
func Requests(d Deps) (*requests.Requests, error) {
	return requests.NewRequests(dynamostore.NewRequests(d.DB, d.Config.Table), d.Queue, d.Clock, d.IDs, d.requestsConfig())
}

// Escalation: reminders and escalation of waiting requests.
func Escalation(d Deps) (*requests.Escalation, error) {
	return requests.NewEscalation(dynamostore.NewRequests(d.DB, d.Config.Table), d.Queue, d.Clock, d.IDs, d.requestsConfig())
}

// Rerouting: pending approvals follow the structure; their new approvers
// are told at once through the queue.
func Rerouting(d Deps) (*requests.Rerouting, error) {
	return requests.NewRerouting(dynamostore.NewRequests(d.DB, d.Config.Table), d.Queue, d.Clock, d.IDs, d.requestsConfig())
}

// Notices: announcements, the notification list, settings and templates.
func Notices(d Deps) (*notices.Service, error) {
	return notices.NewService(dynamostore.NewNotices(d.DB, d.Config.Table), d.Queue, d.Clock, d.IDs, d.Config.PublicBaseURL)
}

// Publishing takes the employer system's structure; cabinets and pending
// approvals follow it.
func Publishing(d Deps) (*publication.Publishing, error) {
	sync, err := PublicationSync(d)
	if err != nil {
		return nil, err
	}
	approvals, err := Rerouting(d)
	if err != nil {
		return nil, err
	}
	return publication.NewPublishing(dynamostore.NewPublication(d.DB, d.Config.Table), sync, approvals,
		publication.PhoneParser(d.ParsePhone), d.Clock, d.IDs, d.Config.PublicationLock, d.Config.SnapshotTTL)
}

// Directory: the published employees.
func Directory(d Deps) (*publication.Directory, error) {
	return publication.NewDirectory(dynamostore.NewPublication(d.DB, d.Config.Table))
}

// Notifier sends the queue's messages, once each, under the SMS caps, and
// reports invitation results to their cabinets.
func Notifier(d Deps) (*notify.Notifier, error) {
	reports, err := DeliveryReports(d)
	if err != nil {
		return nil, err
	}
	store := d.store()
	return notify.NewNotifier(d.Sender, dynamostore.NewLedger(store), d.Clock, reports, dynamostore.NewLimiter(store), d.Config.SMS)
}

// Outbox queues staged messages that are due.
func Outbox(d Deps) (*notify.Outbox, error) {
	return notify.NewOutbox(dynamostore.NewOutbox(d.DB, d.Config.Table), d.Queue, d.Clock)
}

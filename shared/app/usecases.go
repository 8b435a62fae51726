package app

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/kabinet/kabinet/shared/cabinets"
	"github.com/kabinet/kabinet/shared/dynamostore"
	"github.com/kabinet/kabinet/shared/esign"
	"github.com/kabinet/kabinet/shared/idempotency"
	"github.com/kabinet/kabinet/shared/notices"
	"github.com/kabinet/kabinet/shared/notify"
	"github.com/kabinet/kabinet/shared/onboarding"
	"github.com/kabinet/kabinet/shared/otp"
	"github.com/kabinet/kabinet/shared/platform"
	"github.com/kabinet/kabinet/shared/publication"
	"github.com/kabinet/kabinet/shared/requests"
	"github.com/kabinet/kabinet/shared/signatures"
	"github.com/kabinet/kabinet/shared/usage"
)

// Deps are what every builder takes: the outside world, or stand-ins for
// it in tests. A builder refuses (with an error) what it needs and lacks.
type Deps struct {
	Log *slog.Logger
	// Stores are the repositories of the ports: DynamoDB (DynamoStores) in
	// the functions, the in-memory fakes in use-case tests.
	Stores Stores
	// Queue is the notifications queue: SQS, or a recorder in tests.
	Queue notify.Queue
	// Sender sends SMS and e-mail (NotifierFunction only).
	Sender notify.Sender
	// ParsePhone parses mobile numbers (shared/phone.ParseMobile). It is
	// given only to the functions that validate phones (ConnectFunction and
	// PublicationFunction), so that the others do not link libphonenumber
	// and pay for its start-up. Sign-in (AuthFunction) only normalizes the
	// login it is given, with domain.PhoneLogin.
	ParsePhone onboarding.PhoneParser
	Clock      platform.Clock
	IDs        platform.IDs
	Config     Config
	// DataKeys and CASigner are the KMS keys of employees' signatures
	// (kmsca.DataKeys, kmsca.LazySigner.For), given by SignaturesFunction's
	// main alone, so that no other binary links the KMS client.
	DataKeys esign.DataKeys
	CASigner signatures.SignerFor
}

// Stores hold one repository per port. In DynamoDB they all share the one
// table; the fakes share one in-memory world in the same way.
type Stores struct {
	// People: organizations, people, sign-in, refresh tokens, API keys and
	// the one-time codes.
	People   PeopleStore
	Limiter  onboarding.Limiter
	Cabinets cabinets.Store
	// EDO: the organization's КЭДО settings (the cabinet repository
	// keeps them in DynamoDB).
	EDO         cabinets.EDOStore
	Publication publication.Store
	Requests    requests.Store
	Notices     notices.Store
	Outbox      notify.OutboxStore
	Ledger      notify.Ledger
	Idempotency idempotency.Store
	// Signatures: employees' signatures, their audit, the CA certificate
	// and the revocations.
	Signatures signatures.Store
	// Usage: the organizations' service periods and usage statistics.
	Usage usage.Store
}

// PeopleStore is onboarding's store, which also keeps the one-time codes.
type PeopleStore interface {
	onboarding.Store
	otp.Store
}

// DynamoStores are the DynamoDB repositories, all on table.
func DynamoStores(db *dynamodb.Client, table string) Stores {
	people := dynamostore.New(db, table)
	cabs := dynamostore.NewCabinets(db, table)
	return Stores{
		People:      people,
		Limiter:     dynamostore.NewLimiter(people),
		Cabinets:    cabs,
		EDO:         cabs,
		Publication: dynamostore.NewPublication(db, table),
		Requests:    dynamostore.NewRequests(db, table),
		Notices:     dynamostore.NewNotices(db, table),
		Outbox:      dynamostore.NewOutbox(db, table),
		Ledger:      dynamostore.NewLedger(people),
		Idempotency: dynamostore.NewIdempotency(people),
		Signatures:  dynamostore.NewSignatures(db, table),
		Usage:       dynamostore.NewUsage(db, table),
	}
}

func (d Deps) cabinetsConfig() cabinets.Config {
	return cabinets.Config{PublicBaseURL: d.Config.PublicBaseURL, Argon2: d.Config.Onboarding.Argon2}
}

func (d Deps) requestsConfig() requests.Config {
	return requests.Config{PublicBaseURL: d.Config.PublicBaseURL, JobPage: d.Config.RequestJobPage}
}

// Codes are the one-time codes, under the onboarding flow's code rules.
func Codes(d Deps) (*otp.Codes, error) {
	return otp.NewCodes(d.Stores.People, d.Stores.Limiter, d.Queue, d.Config.CodeHasher, d.Clock, d.IDs, d.Config.Onboarding.CodeRules())
}

// Connection connects organizations.
func Connection(d Deps) (*onboarding.Connection, error) {
	return onboarding.NewConnection(d.Stores.People, d.Stores.Limiter, d.ParsePhone, d.Clock, d.IDs, d.Config.Onboarding)
}

// Credentials builds the use case: codes, password setup, sign-in and refresh.
func Credentials(d Deps) (*onboarding.Credentials, error) {
	codes, err := Codes(d)
	if err != nil {
		return nil, err
	}
	if err := signer(d); err != nil {
		return nil, err
	}
	return onboarding.NewCredentials(d.Stores.People, d.Stores.Limiter, codes, d.Config.Tokens, d.Clock, d.IDs,
		d.Config.Onboarding)
}

// Account builds the use case: who am I, the person's password and
// sessions, and the organization's API keys.
func Account(d Deps) (*onboarding.Account, error) {
	if err := signer(d); err != nil {
		return nil, err
	}
	return onboarding.NewAccount(d.Stores.People, d.Stores.Limiter, d.Config.Tokens, d.Clock, d.IDs, d.Config.Onboarding)
}

// signer refuses, at init, to build a use case that issues sessions from
// tokens that hold no private key: only the functions template.yaml gives
// TOKEN_SIGNING_KEYS_SECRET_ARN can sign.
func signer(d Deps) error {
	if d.Config.Tokens == nil || !d.Config.Tokens.CanSign() {
		return errors.New("app: this use case issues sessions and needs the token signing keys (TOKEN_SIGNING_KEYS_SECRET_ARN)")
	}
	return nil
}

// APIKeys checks the employer system's API keys.
func APIKeys(d Deps) (*onboarding.APIKeys, error) { return onboarding.NewAPIKeys(d.Stores.People) }

// Activations builds the use case: the employee's cabinet activation by invitation, with codes
// under the same rules as onboarding's.
func Activations(d Deps) (*cabinets.Activations, error) {
	codes, err := Codes(d)
	if err != nil {
		return nil, err
	}
	return cabinets.NewActivations(d.Stores.Cabinets, codes, d.Clock, d.IDs, d.cabinetsConfig())
}

// Administration builds the use case: the responsible person's cabinet administration.
func Administration(d Deps) (*cabinets.Administration, error) {
	return cabinets.NewAdministration(d.Stores.Cabinets, d.Queue, d.Clock, d.IDs, d.cabinetsConfig())
}

// InvitationJob builds the use case: automatic invitations, reminders and expiry.
func InvitationJob(d Deps) (*cabinets.InvitationJob, error) {
	return cabinets.NewInvitationJob(d.Stores.Cabinets, d.Queue, d.Clock, d.IDs, d.cabinetsConfig())
}

// DeliveryReports take invitation results back to the cabinet; an
// undeliverable invitation SMS is replaced by its e-mail, staged and queued.
func DeliveryReports(d Deps) (*cabinets.DeliveryReports, error) {
	return cabinets.NewDeliveryReports(d.Stores.Cabinets, d.Queue, d.Clock)
}

// PublicationSync keeps cabinets in step with published employees.
func PublicationSync(d Deps) (*cabinets.PublicationSync, error) {
	return cabinets.NewPublicationSync(d.Stores.Cabinets)
}

// Preferences builds the use case: the employee's cabinet and preferred channel.
func Preferences(d Deps) (*cabinets.Preferences, error) {
	return cabinets.NewPreferences(d.Stores.Cabinets, d.Clock)
}

// EDO builds the use case: the organization's КЭДО settings.
func EDO(d Deps) (*cabinets.EDO, error) {
	return cabinets.NewEDO(d.Stores.EDO, d.Clock)
}

// EDOGuard builds the check that the signature use cases make before each
// employee signature action: the organization's КЭДО settings and the
// employee's published consent.
func EDOGuard(d Deps) (*cabinets.EDOGuard, error) {
	return cabinets.NewEDOGuard(d.Stores.EDO, d.Stores.Publication)
}

// Requests builds the use case: employees' requests, approvals, processing and settings.
func Requests(d Deps) (*requests.Requests, error) {
	return requests.NewRequests(d.Stores.Requests, d.Queue, d.Clock, d.IDs, d.requestsConfig())
}

// Escalation builds the use case: reminders and escalation of waiting requests.
func Escalation(d Deps) (*requests.Escalation, error) {
	return requests.NewEscalation(d.Stores.Requests, d.Queue, d.Clock, d.IDs, d.requestsConfig())
}

// Rerouting builds the use case: pending approvals follow the structure; their new approvers
// are told at once through the queue.
func Rerouting(d Deps) (*requests.Rerouting, error) {
	return requests.NewRerouting(d.Stores.Requests, d.Queue, d.Clock, d.IDs, d.requestsConfig())
}

// Notices builds the use case: announcements, the notification list, settings and templates.
func Notices(d Deps) (*notices.Service, error) {
	return notices.NewService(d.Stores.Notices, d.Queue, d.Clock, d.IDs, d.Config.PublicBaseURL)
}

// Publishing takes the employer system's structure; cabinets and pending
// approvals follow it.
func Publishing(d Deps) (*publication.Publishing, error) {
	sync, err := PublicationSync(d)
	if err != nil {
		return nil, err
	}
	// Without a requests store (use-case tests of cabinets and notices),
	// pending approvals are not re-routed.
	var approvals *requests.Rerouting
	if d.Stores.Requests != nil {
		if approvals, err = Rerouting(d); err != nil {
			return nil, err
		}
	}
	// With a signatures store, an employee who loses their cabinet also
	// loses their signature (revoked, for the CRL).
	var cabs publication.CabinetSync = sync
	if d.Stores.Signatures != nil {
		rv, err := signatures.NewRevoker(d.Stores.Signatures, d.Clock, d.IDs)
		if err != nil {
			return nil, err
		}
		cabs = revokingSync{next: sync, revoker: rv}
	}
	return publication.NewPublishing(d.Stores.Publication, cabs, approvals,
		publication.PhoneParser(d.ParsePhone), d.Clock, d.IDs, d.Config.PublicationLock, d.Config.SnapshotTTL)
}

// Directory builds the use case: the published employees.
func Directory(d Deps) (*publication.Directory, error) {
	return publication.NewDirectory(d.Stores.Publication)
}

// Notifier sends the queue's messages, once each, under the SMS caps, and
// reports invitation results to their cabinets.
func Notifier(d Deps) (*notify.Notifier, error) {
	reports, err := DeliveryReports(d)
	if err != nil {
		return nil, err
	}
	return notify.NewNotifier(d.Sender, d.Stores.Ledger, d.Clock, reports, d.Stores.Limiter, d.Config.SMS)
}

// Outbox queues staged messages that are due.
func Outbox(d Deps) (*notify.Outbox, error) {
	return notify.NewOutbox(d.Stores.Outbox, d.Queue, d.Clock)
}

// Signatures builds the use case: employees' signatures (create, sign,
// renew, revoke), their audit, and the deployment's CA certificate and
// CRL, on the KMS keys the function's main gives (Deps.DataKeys,
// Deps.CASigner).
func Signatures(d Deps) (*signatures.Service, error) {
	if err := platform.Required("app.Signatures", "DataKeys", d.DataKeys, "CASigner", d.CASigner,
		"Stores.Signatures", d.Stores.Signatures); err != nil {
		return nil, err
	}
	codes, err := Codes(d)
	if err != nil {
		return nil, err
	}
	guard, err := EDOGuard(d)
	if err != nil {
		return nil, err
	}
	keyring, err := esign.NewKeyring(d.DataKeys)
	if err != nil {
		return nil, err
	}
	cfg := signatures.Defaults()
	if d.Config.PublicBaseURL != "" {
		cfg.CRLURL, cfg.CertificateURL = d.Config.PublicBaseURL+"/v1/pki/crl", d.Config.PublicBaseURL+"/v1/pki/ca.crt"
	}
	return signatures.New(d.Stores.Signatures, d.Stores.People, d.Stores.Publication, guard, codes, keyring, d.CASigner,
		d.Queue, d.Clock, d.IDs, cfg)
}

// revokingSync is the cabinet sync that also revokes the signature of an
// employee who loses the right to a cabinet: unpublished (cessation of
// operation), dismissed (affiliation changed) or whose published data no
// longer allow one (cessation of operation). Their cabinet is disabled
// first, which already stops signing (the person cannot sign in); the
// revocation tells verifiers, so a failed one is logged and the
// publication stands.
type revokingSync struct {
	next    publication.CabinetSync
	revoker *signatures.Revoker
}

func (r revokingSync) EmployeesChanged(ctx context.Context, orgID string, changes []publication.EmployeeChange, now,
	deadline time.Time) ([]string, error) {
	failed, err := r.next.EmployeesChanged(ctx, orgID, changes, now, deadline)
	if err != nil {
		return failed, err
	}
	skip := make(map[string]bool, len(failed))
	for _, id := range failed {
		skip[id] = true
	}
	for _, ch := range changes {
		reason, lost := lostCabinet(ch)
		if !lost || skip[ch.Employee.ExternalID] {
			continue
		}
		if err := r.revoker.Revoke(ctx, orgID, ch.Employee.ExternalID, reason); err != nil {
			platform.Logger(ctx).Error("signature not revoked after the cabinet was disabled", "employee", ch.Employee.ExternalID,
				"error", err.Error())
		}
	}
	return failed, nil
}

// lostCabinet says whether a change takes the employee's cabinet away, and
// the revocation reason.
func lostCabinet(ch publication.EmployeeChange) (esign.RevocationReason, bool) {
	if !ch.WasEligible || (!ch.Unpublished && ch.Employee.Eligible()) {
		return 0, false
	}
	for _, p := range ch.Employee.CabinetProblems {
		if p.Code == "dismissed" {
			return esign.ReasonAffiliationChanged, true
		}
	}
	return esign.ReasonCessationOfOperation, true
}

// Usage builds the use case: the service period as the responsible person
// and the operator see and change it, and the usage statistics job.
func Usage(d Deps) (*usage.Service, error) { return usage.NewService(d.Stores.Usage, d.Clock) }

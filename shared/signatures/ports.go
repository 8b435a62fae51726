// Package signatures is the employees' electronic signatures (УНЭП, issue
// 16) as a use case: creating one with a one-time code and a signature
// password, signing documents with it under a lockout after wrong
// passwords, renewing it, revoking it, the public CA certificate and CRL,
// and the audit of every signature event. The cryptography is
// shared/esign's; this package decides who may do what, and when, and
// declares the stores it needs as ports.
package signatures

import (
	"context"
	"crypto"
	"time"

	"github.com/kabinet/kabinet/shared/domain"
	"github.com/kabinet/kabinet/shared/esign"
	"github.com/kabinet/kabinet/shared/notify"
	"github.com/kabinet/kabinet/shared/otp"
	"github.com/kabinet/kabinet/shared/publication"
)

// ErrStale is the one stale error (a conditional write lost).
var ErrStale = domain.ErrStale

// Record is an employee's signature as stored: the certificate and the
// sealed private key (never the key in the clear, never the password).
type Record struct {
	OrganizationID string
	EmployeeID     string
	Serial         string // the certificate's serial, lower-case hex
	Certificate    []byte // DER
	Sealed         []byte // esign.SealedKey as JSON
	CreatedAt      time.Time
	// RevokedAt is set once the certificate is revoked (dismissal, a
	// disabled cabinet); a renewal replaces the record instead.
	RevokedAt time.Time
	Reason    esign.RevocationReason
}

// Revocation is one revoked certificate, for the CRL.
type Revocation struct {
	OrganizationID string
	EmployeeID     string
	Serial         string
	RevokedAt      time.Time
	Reason         esign.RevocationReason
}

// Attempts is the wrong-password state of one employee's signing: the
// number of attempts counted in the window, and the lock, if any.
type Attempts struct {
	Count       int
	WindowEnds  time.Time
	LockedUntil time.Time
}

// Store keeps signatures, revocations, the signing attempts, the audit
// events and the deployment's CA certificate.
type Store interface {
	// Signature reads the employee's signature; domain.ErrNotFound if none.
	Signature(ctx context.Context, orgID, employeeID string) (Record, error)
	// PutSignature stores rec in one transaction with: the one-time code
	// consumed (still code's, unused), the revocation of the previous
	// certificate when rev is not nil, and the audit event. It is
	// conditional on the stored signature's serial still being prevSerial
	// ("": none stored), so two concurrent creations store one; ErrStale
	// otherwise.
	PutSignature(ctx context.Context, rec Record, prevSerial string, code otp.Record, rev *Revocation, ev Event) error
	// RevokeSignature marks the stored signature (still rev.Serial) revoked
	// and records the revocation and ev, atomically; ErrStale if it changed.
	RevokeSignature(ctx context.Context, rev Revocation, ev Event) error
	// Revocations reads every revocation of the deployment (the CRL).
	Revocations(ctx context.Context) ([]Revocation, error)

	// TakeSigningAttempt counts one signing attempt atomically: in a new
	// window when the last has ended, else only while fewer than max were
	// counted and no lock holds. It returns the state after counting, or
	// ErrStale with the state as read when the attempt was refused.
	TakeSigningAttempt(ctx context.Context, orgID, employeeID string, max int, window time.Duration, now time.Time) (Attempts, error)
	// LockSigning locks signing until then.
	LockSigning(ctx context.Context, orgID, employeeID string, until time.Time) error
	// ClearSigningAttempts forgets the counted attempts (a right password).
	ClearSigningAttempts(ctx context.Context, orgID, employeeID string) error

	// AddEvent records an audit event.
	AddEvent(ctx context.Context, ev Event) error
	// Events pages through one employee's events, newest first.
	Events(ctx context.Context, orgID, employeeID string, limit int, cursor string) ([]Event, string, error)

	// CACertificate reads the deployment's CA certificate (DER);
	// domain.ErrNotFound before it is made.
	CACertificate(ctx context.Context) ([]byte, error)
	// PutCACertificate stores the CA certificate unless one is stored
	// (ErrStale then: another cold start made it first).
	PutCACertificate(ctx context.Context, der []byte) error
}

// People reads who signs in: the person behind the token (their sign-in
// password hash, phone, name) and their organization.
type People interface {
	Person(ctx context.Context, orgID, personID string) (domain.Person, error)
	Organization(ctx context.Context, orgID string) (domain.Organization, error)
}

// Employees reads a published employee (their full name for the subject).
type Employees interface {
	Employee(ctx context.Context, orgID, externalID string) (publication.PublishedEmployee, error)
}

// Guard is the КЭДО check before every signature action
// (cabinets.EDOGuard).
type Guard interface {
	Check(ctx context.Context, orgID, employeeID string) error
}

// Codes are the one-time codes (otp.Codes).
type Codes interface {
	Issue(ctx context.Context, t otp.Target) error
	Check(ctx context.Context, orgID, purpose, slot, code string) (otp.Record, error)
}

// Queue takes the messages that tell an employee their signing is locked.
type Queue = notify.Queue

// SignerFor gives the CA's signer for one request, so KMS calls honour
// its deadline (kmsca.Signer.WithContext). The first call may read the
// key's public key, which is why it can fail.
type SignerFor func(ctx context.Context) (crypto.Signer, error)

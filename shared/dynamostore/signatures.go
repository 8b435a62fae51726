package dynamostore

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/kabinet/kabinet/shared/domain"
	"github.com/kabinet/kabinet/shared/esign"
	"github.com/kabinet/kabinet/shared/otp"
	"github.com/kabinet/kabinet/shared/signatures"
)

// Signatures is the repository of employees' signatures: per employee the
// certificate and sealed key, the wrong-password counter and the audit
// events (under the tenant); per deployment the CA certificate and the
// revocations the CRL lists (partition "PKI", which belongs to no tenant:
// the CRL is the deployment's).
type Signatures struct {
	t *table
}

// NewSignatures returns the signatures repository on the named table.
func NewSignatures(db API, table string) *Signatures {
	return &Signatures{t: newTable(db, table)}
}

var _ signatures.Store = (*Signatures)(nil)

type signatureItem struct {
	key
	Type        string
	Serial      string
	Certificate []byte
	Sealed      []byte
	CreatedAt   int64
	RevokedAt   int64 `dynamodbav:",omitempty"`
	Reason      int   `dynamodbav:",omitempty"`
}

type revocationItem struct {
	key
	Type           string
	OrganizationID string
	EmployeeID     string
	Serial         string
	RevokedAt      int64
	Reason         int
}

type attemptsItem struct {
	key
	Count       int
	WindowEnds  int64
	LockedUntil int64 `dynamodbav:",omitempty"`
	TTL         int64 `dynamodbav:"ttl"`
}

type eventItem struct {
	key
	Type      string
	ID        string
	Employee  string
	Kind      string
	At        int64
	Serial    string `dynamodbav:",omitempty"`
	Reason    string `dynamodbav:",omitempty"`
	Documents int    `dynamodbav:",omitempty"`
	Detail    string `dynamodbav:",omitempty"`
	IP        string `dynamodbav:",omitempty"`
	UserAgent string `dynamodbav:",omitempty"`
	TTL       int64  `dynamodbav:"ttl"`
}

type caItem struct {
	key
	Type        string
	Certificate []byte
}

// eventRetention is how long signature events are kept: the audit of a
// signature outlives the certificate (one year) with a margin.
const eventRetention = 5 * 365 * 24 * time.Hour

func toEventItem(ev signatures.Event) eventItem {
	return eventItem{key: sigEventKey(ev.OrganizationID, ev.EmployeeID, ev.ID), Type: "SignatureEvent", ID: ev.ID,
		Employee: ev.EmployeeID, Kind: string(ev.Kind), At: ms(ev.At), Serial: ev.Serial, Reason: ev.Reason,
		Documents: ev.Documents, Detail: ev.Detail, IP: ev.IP, UserAgent: ev.UserAgent, TTL: ttl(ev.At.Add(eventRetention))}
}

func (it eventItem) event(orgID string) signatures.Event {
	return signatures.Event{OrganizationID: orgID, EmployeeID: it.Employee, ID: it.ID, Kind: signatures.EventKind(it.Kind),
		At: fromMS(it.At), Serial: it.Serial, Reason: it.Reason, Documents: it.Documents, Detail: it.Detail, IP: it.IP,
		UserAgent: it.UserAgent}
}

func toRevocationItem(r signatures.Revocation) revocationItem {
	return revocationItem{key: revocationKey(r.Serial), Type: "Revocation", OrganizationID: r.OrganizationID,
		EmployeeID: r.EmployeeID, Serial: r.Serial, RevokedAt: ms(r.RevokedAt), Reason: int(r.Reason)}
}

// Signature reads the employee's signature; domain.ErrNotFound if none.
func (s *Signatures) Signature(ctx context.Context, orgID, employeeID string) (signatures.Record, error) {
	var it signatureItem
	if err := s.t.get(ctx, signatureKey(orgID, employeeID), &it); err != nil {
		return signatures.Record{}, err
	}
	return signatures.Record{OrganizationID: orgID, EmployeeID: employeeID, Serial: it.Serial, Certificate: it.Certificate,
		Sealed: it.Sealed, CreatedAt: fromMS(it.CreatedAt), RevokedAt: fromMS(it.RevokedAt), Reason: esign.RevocationReason(it.Reason)}, nil
}

// PutSignature writes, in one transaction: the signature (conditional on
// the stored serial), the code consumed, the previous certificate's
// revocation, the event.
func (s *Signatures) PutSignature(ctx context.Context, rec signatures.Record, prevSerial string, code otp.Record,
	rev *signatures.Revocation, ev signatures.Event) error {
	c := notExists()
	if prevSerial != "" {
		c = cond(expression.Name("Serial").Equal(expression.Value(prevSerial)))
	}
	put, err := s.t.put(signatureItem{key: signatureKey(rec.OrganizationID, rec.EmployeeID), Type: "Signature", Serial: rec.Serial,
		Certificate: rec.Certificate, Sealed: rec.Sealed, CreatedAt: ms(rec.CreatedAt)}, c)
	if err != nil {
		return err
	}
	used, err := s.t.update(codeKey(code.OrganizationID, code.Purpose, code.Slot),
		expression.Set(expression.Name("UsedAt"), expression.Value(ms(ev.At))),
		cond(expression.AttributeNotExists(expression.Name("UsedAt")).And(expression.Name("Hash").Equal(expression.Value(code.Hash)))))
	if err != nil {
		return err
	}
	evPut, err := s.t.put(toEventItem(ev), nil)
	if err != nil {
		return err
	}
	actions := []types.TransactWriteItem{put, used, evPut}
	if rev != nil {
		revPut, err := s.t.put(toRevocationItem(*rev), notExists())
		if err != nil {
			return err
		}
		actions = append(actions, revPut)
	}
	return s.t.transact(ctx, "put signature", "", actions...)
}

// RevokeSignature marks the signature revoked and records the revocation
// and the event in one transaction.
func (s *Signatures) RevokeSignature(ctx context.Context, rev signatures.Revocation, ev signatures.Event) error {
	upd, err := s.t.update(signatureKey(rev.OrganizationID, rev.EmployeeID),
		expression.Set(expression.Name("RevokedAt"), expression.Value(ms(rev.RevokedAt))).
			Set(expression.Name("Reason"), expression.Value(int(rev.Reason))),
		cond(expression.Name("Serial").Equal(expression.Value(rev.Serial)).And(expression.AttributeNotExists(expression.Name("RevokedAt")))))
	if err != nil {
		return err
	}
	revPut, err := s.t.put(toRevocationItem(rev), notExists())
	if err != nil {
		return err
	}
	evPut, err := s.t.put(toEventItem(ev), nil)
	if err != nil {
		return err
	}
	return s.t.transact(ctx, "revoke signature", "", upd, revPut, evPut)
}

// Revocations reads every revocation of the deployment.
func (s *Signatures) Revocations(ctx context.Context) ([]signatures.Revocation, error) {
	its, err := all[revocationItem](ctx, s.t, query{op: "revocations", pk: pkiPK, sk: beginsWith(revocationPrefix), consistent: true}, 0)
	if err != nil {
		return nil, err
	}
	return mapAll(its, func(it revocationItem) signatures.Revocation {
		return signatures.Revocation{OrganizationID: it.OrganizationID, EmployeeID: it.EmployeeID, Serial: it.Serial,
			RevokedAt: fromMS(it.RevokedAt), Reason: esign.RevocationReason(it.Reason)}
	}), nil
}

// TakeSigningAttempt counts an attempt in one conditional update (a new
// window), or a second (within the window, under the limit, unlocked):
// DynamoDB serializes concurrent attempts, so no more than max are counted
// in a window.
func (s *Signatures) TakeSigningAttempt(ctx context.Context, orgID, employeeID string, max int, window time.Duration,
	now time.Time) (signatures.Attempts, error) {
	k := attemptsKey(orgID, employeeID)
	unlocked := expression.AttributeNotExists(expression.Name("LockedUntil")).
		Or(expression.Name("LockedUntil").LessThanEqual(expression.Value(ms(now))))
	fresh := expression.AttributeNotExists(expression.Name("PK")).
		Or(expression.Name("WindowEnds").LessThanEqual(expression.Value(ms(now)))).And(unlocked)
	attrs, err := s.t.updateItem(ctx, "signing attempt", k,
		expression.Set(expression.Name("Count"), expression.Value(1)).
			Set(expression.Name("WindowEnds"), expression.Value(ms(now.Add(window)))).
			Set(expression.Name("ttl"), expression.Value(ttl(now.Add(window+24*time.Hour)))).
			Remove(expression.Name("LockedUntil")), &fresh, types.ReturnValueAllNew)
	if isStale(err) {
		within := expression.Name("WindowEnds").GreaterThan(expression.Value(ms(now))).
			And(expression.Name("Count").LessThan(expression.Value(max))).And(unlocked)
		attrs, err = s.t.updateItem(ctx, "signing attempt", k, expression.Add(expression.Name("Count"), expression.Value(1)),
			&within, types.ReturnValueAllNew)
	}
	if isStale(err) {
		var it attemptsItem
		if err := s.t.get(ctx, k, &it); err != nil && !errors.Is(err, domain.ErrNotFound) {
			return signatures.Attempts{}, err
		}
		return signatures.Attempts{Count: it.Count, WindowEnds: fromMS(it.WindowEnds), LockedUntil: fromMS(it.LockedUntil)}, signatures.ErrStale
	}
	if err != nil {
		return signatures.Attempts{}, err
	}
	it, err := decode[attemptsItem](attrs)
	if err != nil {
		return signatures.Attempts{}, err
	}
	return signatures.Attempts{Count: it.Count, WindowEnds: fromMS(it.WindowEnds), LockedUntil: fromMS(it.LockedUntil)}, nil
}

// LockSigning locks signing until then.
func (s *Signatures) LockSigning(ctx context.Context, orgID, employeeID string, until time.Time) error {
	_, err := s.t.updateItem(ctx, "lock signing", attemptsKey(orgID, employeeID),
		expression.Set(expression.Name("LockedUntil"), expression.Value(ms(until))).
			Set(expression.Name("ttl"), expression.Value(ttl(until.Add(24*time.Hour)))), nil, "")
	return err
}

// ClearSigningAttempts forgets the attempts, unless a lock holds (a right
// password racing the fifth wrong one does not lift the lock).
func (s *Signatures) ClearSigningAttempts(ctx context.Context, orgID, employeeID string) error {
	_, err := s.t.deleteItem(ctx, "clear signing attempts", attemptsKey(orgID, employeeID),
		cond(expression.AttributeNotExists(expression.Name("LockedUntil"))), "")
	if isStale(err) {
		return nil
	}
	return err
}

// AddEvent records an audit event.
func (s *Signatures) AddEvent(ctx context.Context, ev signatures.Event) error {
	return s.t.putItem(ctx, "signature event", toEventItem(ev), nil)
}

// Events pages through one employee's events, newest first.
func (s *Signatures) Events(ctx context.Context, orgID, employeeID string, limit int, cur string) ([]signatures.Event, string, error) {
	prefix := sigEventPrefix(employeeID)
	its, next, err := list[eventItem](ctx, s.t, query{op: "signature events", pk: orgPK(orgID), sk: beginsWith(prefix), backward: true},
		orgPK(orgID), limit, cur, func(c cursor) bool { return strings.HasPrefix(c.SK, prefix) })
	if err != nil {
		return nil, "", err
	}
	return mapAll(its, func(it eventItem) signatures.Event { return it.event(orgID) }), next, nil
}

// CACertificate reads the deployment's CA certificate.
func (s *Signatures) CACertificate(ctx context.Context) ([]byte, error) {
	var it caItem
	if err := s.t.get(ctx, caKey(), &it); err != nil {
		return nil, err
	}
	return it.Certificate, nil
}

// PutCACertificate stores the CA certificate unless one is stored.
func (s *Signatures) PutCACertificate(ctx context.Context, der []byte) error {
	return s.t.putItem(ctx, "put CA certificate", caItem{key: caKey(), Type: "CACertificate", Certificate: der}, notExists())
}

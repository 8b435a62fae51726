// Package signaturestest holds the in-memory fake of the signatures'
// Store and the contract suite that it and the DynamoDB repository pass.
package signaturestest

import (
	"context"
	"sort"
	"sync"
	"time"

	"github.com/kabinet/kabinet/shared/domain"
	"github.com/kabinet/kabinet/shared/otp"
	"github.com/kabinet/kabinet/shared/signatures"
)

// CodeRedeemer marks a one-time code used if it is still unused and the
// same (onboardingtest.Store has it), as the DynamoDB transaction does.
type CodeRedeemer interface {
	RedeemCode(ctx context.Context, rec otp.Record, setupTokenHash string, setupExpiresAt, now time.Time) error
}

// Store is the in-memory signatures store. One mutex makes each method
// atomic, as DynamoDB's conditional writes and transactions are.
type Store struct {
	codes CodeRedeemer

	mu       sync.Mutex
	sigs     map[string]signatures.Record // org/employee
	revoked  map[string]signatures.Revocation
	attempts map[string]signatures.Attempts
	events   map[string][]signatures.Event // org/employee, oldest first
	ca       []byte
}

var _ signatures.Store = (*Store)(nil)

// New returns an empty store whose PutSignature consumes codes in codes.
func New(codes CodeRedeemer) *Store {
	return &Store{codes: codes, sigs: map[string]signatures.Record{}, revoked: map[string]signatures.Revocation{},
		attempts: map[string]signatures.Attempts{}, events: map[string][]signatures.Event{}}
}

func k(orgID, employeeID string) string { return orgID + "/" + employeeID }

// Signature reads the employee's signature.
func (s *Store) Signature(_ context.Context, orgID, employeeID string) (signatures.Record, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, ok := s.sigs[k(orgID, employeeID)]
	if !ok {
		return signatures.Record{}, domain.ErrNotFound
	}
	return r, nil
}

// PutSignature stores rec if the stored serial is still prevSerial, the
// code unused and the revocation new: all or nothing.
func (s *Store) PutSignature(ctx context.Context, rec signatures.Record, prevSerial string, code otp.Record, rev *signatures.Revocation,
	ev signatures.Event) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	cur, ok := s.sigs[k(rec.OrganizationID, rec.EmployeeID)]
	if (prevSerial == "" && ok) || (prevSerial != "" && (!ok || cur.Serial != prevSerial)) {
		return signatures.ErrStale
	}
	if rev != nil {
		if _, dup := s.revoked[rev.Serial]; dup {
			return signatures.ErrStale
		}
	}
	if err := s.codes.RedeemCode(ctx, code, "", ev.At, ev.At); err != nil {
		return signatures.ErrStale
	}
	s.sigs[k(rec.OrganizationID, rec.EmployeeID)] = rec
	if rev != nil {
		s.revoked[rev.Serial] = *rev
	}
	s.addEvent(ev)
	return nil
}

// RevokeSignature marks the signature revoked, with its revocation and event.
func (s *Store) RevokeSignature(_ context.Context, rev signatures.Revocation, ev signatures.Event) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	key := k(rev.OrganizationID, rev.EmployeeID)
	cur, ok := s.sigs[key]
	if _, dup := s.revoked[rev.Serial]; !ok || cur.Serial != rev.Serial || !cur.RevokedAt.IsZero() || dup {
		return signatures.ErrStale
	}
	cur.RevokedAt, cur.Reason = rev.RevokedAt, rev.Reason
	s.sigs[key] = cur
	s.revoked[rev.Serial] = rev
	s.addEvent(ev)
	return nil
}

// Revocations reads every revocation.
func (s *Store) Revocations(context.Context) ([]signatures.Revocation, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]signatures.Revocation, 0, len(s.revoked))
	for _, r := range s.revoked {
		out = append(out, r)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Serial < out[j].Serial })
	return out, nil
}

// TakeSigningAttempt counts an attempt: a new window once the last ended,
// else under max and unlocked.
func (s *Store) TakeSigningAttempt(_ context.Context, orgID, employeeID string, max int, window time.Duration, now time.Time) (signatures.Attempts, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	key := k(orgID, employeeID)
	a, ok := s.attempts[key]
	unlocked := a.LockedUntil.IsZero() || !a.LockedUntil.After(now)
	switch {
	case (!ok || !a.WindowEnds.After(now)) && unlocked:
		a = signatures.Attempts{Count: 1, WindowEnds: now.Add(window)}
	case a.WindowEnds.After(now) && a.Count < max && unlocked:
		a.Count++
	default:
		return a, signatures.ErrStale
	}
	s.attempts[key] = a
	return a, nil
}

// LockSigning locks signing until then.
func (s *Store) LockSigning(_ context.Context, orgID, employeeID string, until time.Time) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	a := s.attempts[k(orgID, employeeID)]
	a.LockedUntil = until
	s.attempts[k(orgID, employeeID)] = a
	return nil
}

// ClearSigningAttempts forgets the attempts unless a lock holds.
func (s *Store) ClearSigningAttempts(_ context.Context, orgID, employeeID string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if a := s.attempts[k(orgID, employeeID)]; a.LockedUntil.IsZero() {
		delete(s.attempts, k(orgID, employeeID))
	}
	return nil
}

// AddEvent records an event.
func (s *Store) AddEvent(_ context.Context, ev signatures.Event) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.addEvent(ev)
	return nil
}

func (s *Store) addEvent(ev signatures.Event) {
	key := k(ev.OrganizationID, ev.EmployeeID)
	s.events[key] = append(s.events[key], ev)
	sort.SliceStable(s.events[key], func(i, j int) bool { return s.events[key][i].ID < s.events[key][j].ID })
}

// Events pages through an employee's events, newest first; the cursor is
// the last id returned.
func (s *Store) Events(_ context.Context, orgID, employeeID string, limit int, cursor string) ([]signatures.Event, string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	all := s.events[k(orgID, employeeID)]
	var out []signatures.Event
	for i := len(all) - 1; i >= 0; i-- {
		if cursor != "" && all[i].ID >= cursor {
			continue
		}
		out = append(out, all[i])
		if len(out) == limit {
			if i > 0 {
				return out, all[i].ID, nil
			}
			break
		}
	}
	return out, "", nil
}

// CACertificate reads the CA certificate.
func (s *Store) CACertificate(context.Context) ([]byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ca == nil {
		return nil, domain.ErrNotFound
	}
	return s.ca, nil
}

// PutCACertificate stores the CA certificate unless one is stored.
func (s *Store) PutCACertificate(_ context.Context, der []byte) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ca != nil {
		return signatures.ErrStale
	}
	s.ca = der
	return nil
}

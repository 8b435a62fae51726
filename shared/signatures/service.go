package signatures

import (
	"context"
	"crypto/rand"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/kabinet/kabinet/shared/domain"
	"github.com/kabinet/kabinet/shared/esign"
	"github.com/kabinet/kabinet/shared/notify"
	"github.com/kabinet/kabinet/shared/otp"
	"github.com/kabinet/kabinet/shared/platform"
	"github.com/kabinet/kabinet/shared/security"
)

// PurposeSignature is the purpose of the one-time codes that confirm
// creating and renewing a signature; the slot is the employee.
const PurposeSignature = "signature"

// The stable problem codes of signatures (their statuses are in
// shared/httpapi).
const (
	CodeSignatureExists  domain.ErrorCode = "signature_exists"
	CodeNoSignature      domain.ErrorCode = "signature_missing"
	CodeSignatureRevoked domain.ErrorCode = "signature_revoked"
	CodeSignatureExpired domain.ErrorCode = "signature_expired"
	CodePasswordWrong    domain.ErrorCode = "signature_password_wrong"
	CodeLocked           domain.ErrorCode = "signature_locked"
	CodeNoPhone          domain.ErrorCode = "signature_phone_missing"
)

// Limits of one signing call. A Lambda's synchronous request is at most
// 6 MB, and base64 grows documents by a third: 4 MiB of documents is a
// body of about 5.4 MiB.
const (
	MaxDocuments      = 20
	MaxDocumentBytes  = 1 << 20
	MaxDocumentsBytes = 4 << 20
	// MaxSignBodyBytes bounds the signing body before it is parsed.
	MaxSignBodyBytes = 5_800_000
)

// Config holds the signature rules.
type Config struct {
	// Validity of new certificates; zero means one calendar year.
	Validity time.Duration
	// MaxWrongPasswords wrong signature passwords within Window lock
	// signing for LockFor.
	MaxWrongPasswords int
	Window, LockFor   time.Duration
	// CAName is the subject of the deployment's CA certificate, made once.
	CAName esign.CAName
	// CRLURL and CertificateURL, when set, go into each certificate.
	CRLURL, CertificateURL string
}

// Defaults are the issue's rules: five wrong passwords in 15 minutes lock
// signing for 15 minutes.
func Defaults() Config {
	return Config{MaxWrongPasswords: 5, Window: 15 * time.Minute, LockFor: 15 * time.Minute,
		CAName: esign.CAName{CommonName: "Кабинет: удостоверяющий центр подписей сотрудников", Organization: "Кабинет"}}
}

// Caller is who acts, as the token and the request say.
type Caller struct {
	OrganizationID, PersonID string
	IP, UserAgent            string
}

// Service is the signatures use case.
type Service struct {
	store     Store
	people    People
	employees Employees
	guard     Guard
	codes     Codes
	keyring   *esign.Keyring
	signerFor SignerFor
	queue     Queue
	clock     platform.Clock
	ids       platform.IDs
	cfg       Config

	caMu  sync.Mutex
	caDER []byte
	caCrt *x509.Certificate
}

// New builds the use case; no port may be nil.
func New(store Store, people People, employees Employees, guard Guard, codes Codes, keyring *esign.Keyring,
	signerFor SignerFor, queue Queue, clock platform.Clock, ids platform.IDs, cfg Config) (*Service, error) {
	if err := platform.Required("signatures.Service", "store", store, "people", people, "employees", employees,
		"guard", guard, "codes", codes, "keyring", keyring, "signerFor", signerFor, "queue", queue, "clock", clock, "ids", ids); err != nil {
		return nil, err
	}
	d := Defaults()
	if cfg.MaxWrongPasswords <= 0 {
		cfg.MaxWrongPasswords = d.MaxWrongPasswords
	}
	if cfg.Window <= 0 {
		cfg.Window = d.Window
	}
	if cfg.LockFor <= 0 {
		cfg.LockFor = d.LockFor
	}
	if cfg.CAName.CommonName == "" {
		cfg.CAName = d.CAName
	}
	return &Service{store: store, people: people, employees: employees, guard: guard, codes: codes, keyring: keyring,
		signerFor: signerFor, queue: queue, clock: clock, ids: ids, cfg: cfg}, nil
}

// employee is the caller as an employee with an active cabinet: the
// person exists only once the cabinet was activated, and is disabled with
// it. The responsible person has no signature.
func (s *Service) employee(ctx context.Context, c Caller) (domain.Person, error) {
	p, err := s.people.Person(ctx, c.OrganizationID, c.PersonID)
	if errors.Is(err, domain.ErrNotFound) {
		return domain.Person{}, domain.NewError(domain.CodeForbidden, "only an employee with an active cabinet has a signature")
	}
	if err != nil {
		return domain.Person{}, err
	}
	if p.Role != domain.RoleEmployee || p.EmployeeID == "" || p.Disabled {
		return domain.Person{}, domain.NewError(domain.CodeForbidden, "only an employee with an active cabinet has a signature")
	}
	return p, nil
}

// CodeSent answers a request for a signature code.
type CodeSent struct {
	Channel domain.Channel `json:"channel"`
}

// SendCode sends a fresh one-time code to the employee's phone, to
// confirm creating or renewing their signature.
func (s *Service) SendCode(ctx context.Context, c Caller) (CodeSent, error) {
	p, err := s.employee(ctx, c)
	if err != nil {
		return CodeSent{}, err
	}
	if err := s.guard.Check(ctx, c.OrganizationID, p.EmployeeID); err != nil {
		return CodeSent{}, err
	}
	if p.Phone == "" {
		return CodeSent{}, domain.NewError(CodeNoPhone, "the employee has no confirmed phone for the code")
	}
	err = s.codes.Issue(ctx, otp.Target{OrganizationID: c.OrganizationID, Purpose: PurposeSignature, Slot: p.EmployeeID,
		Subject: p.EmployeeID, Channel: domain.ChannelSMS, Destination: string(p.Phone)})
	if err != nil {
		return CodeSent{}, err
	}
	return CodeSent{Channel: domain.ChannelSMS}, nil
}

// EnrollInput is the body of creating or renewing a signature.
type EnrollInput struct {
	Code     string `json:"code"`
	Password string `json:"password"`
}

// Profile is the employee's certificate as the profile shows it.
type Profile struct {
	Serial    string    `json:"serial"`
	Subject   string    `json:"subject"`
	ValidFrom time.Time `json:"validFrom"`
	ValidTo   time.Time `json:"validTo"`
	// State is active, revoked or expired.
	State     string     `json:"state"`
	RevokedAt *time.Time `json:"revokedAt,omitempty"`
}

// The states of a signature.
const (
	StateActive  = "active"
	StateRevoked = "revoked"
	StateExpired = "expired"
)

func (s *Service) profile(rec Record) (Profile, *x509.Certificate, error) {
	cert, err := x509.ParseCertificate(rec.Certificate)
	if err != nil {
		return Profile{}, nil, fmt.Errorf("signatures: stored certificate: %w", err)
	}
	p := Profile{Serial: rec.Serial, Subject: cert.Subject.String(), ValidFrom: cert.NotBefore.UTC(), ValidTo: cert.NotAfter.UTC(), State: StateActive}
	switch {
	case !rec.RevokedAt.IsZero():
		at := rec.RevokedAt.UTC()
		p.State, p.RevokedAt = StateRevoked, &at
	case !s.clock.Now().Before(cert.NotAfter):
		p.State = StateExpired
	}
	return p, cert, nil
}

// Create creates the employee's signature: a fresh code, a signature
// password under the account password policy that differs from the
// sign-in password; one certificate however many requests race.
func (s *Service) Create(ctx context.Context, c Caller, in EnrollInput) (Profile, error) {
	return s.enroll(ctx, c, in, false)
}

// Renew replaces the employee's signature ("Обновить"): a fresh code, a
// new password and key pair; the old certificate is revoked (superseded)
// in the same write.
func (s *Service) Renew(ctx context.Context, c Caller, in EnrollInput) (Profile, error) {
	return s.enroll(ctx, c, in, true)
}

func (s *Service) enroll(ctx context.Context, c Caller, in EnrollInput, renew bool) (Profile, error) {
	var probs domain.Problems
	if !otp.IsSixDigits(in.Code) {
		probs.Add("code", "invalid_format", "the code is six digits")
	}
	if in.Password == "" {
		probs.Add("password", "required", "choose a signature password")
	}
	if err := probs.Err(); err != nil {
		return Profile{}, err
	}
	p, err := s.employee(ctx, c)
	if err != nil {
		return Profile{}, err
	}
	if err := s.guard.Check(ctx, c.OrganizationID, p.EmployeeID); err != nil {
		return Profile{}, err
	}
	prev, err := s.store.Signature(ctx, c.OrganizationID, p.EmployeeID)
	found := err == nil
	if err != nil && !errors.Is(err, domain.ErrNotFound) {
		return Profile{}, err
	}
	if found && !renew {
		if pr, _, perr := s.profile(prev); perr == nil && pr.State == StateActive {
			return Profile{}, domain.NewError(CodeSignatureExists, "the employee has a signature; renew it instead")
		}
	}
	if !found && renew {
		return Profile{}, domain.NewError(CodeNoSignature, "the employee has no signature to renew; create one")
	}
	org, err := s.people.Organization(ctx, c.OrganizationID)
	if err != nil {
		return Profile{}, err
	}
	if err := domain.CheckPassword(in.Password, domain.PasswordContext{Phone: p.Phone, Email: p.Email, Login: p.Login,
		FullName: p.FullName, Organization: org.Name}); err != nil {
		return Profile{}, err
	}
	// The code before comparing with the sign-in password: each comparison
	// costs a code attempt, so the answer cannot be used to test guesses
	// of the sign-in password.
	code, err := s.codes.Check(ctx, c.OrganizationID, PurposeSignature, p.EmployeeID, in.Code)
	if err != nil {
		return Profile{}, err
	}
	if p.PasswordHash != "" {
		if same, err := security.VerifyPassword(in.Password, p.PasswordHash); err != nil {
			return Profile{}, err
		} else if same {
			return Profile{}, &domain.Error{Code: domain.CodePasswordRejected, Detail: "the signature password is rejected",
				Fields: []domain.FieldError{{Field: "password", Code: "same_as_sign_in",
					Message: "the signature password must differ from the sign-in password"}}}
		}
	}
	emp, err := s.employees.Employee(ctx, c.OrganizationID, p.EmployeeID)
	if err != nil {
		return Profile{}, err
	}
	ca, err := s.ca(ctx)
	if err != nil {
		return Profile{}, err
	}
	now := s.clock.Now()
	en, err := s.keyring.Enroll(ctx, ca, esign.EnrollRequest{Password: in.Password, NotBefore: now, Validity: s.cfg.Validity,
		Subject: esign.Subject{LastName: emp.LastName, FirstName: emp.FirstName, MiddleName: emp.MiddleName, Organization: org.Name}})
	if err != nil {
		return Profile{}, err
	}
	sealed, err := en.Sealed.Marshal()
	if err != nil {
		return Profile{}, err
	}
	rec := Record{OrganizationID: c.OrganizationID, EmployeeID: p.EmployeeID, Serial: esign.SerialHex(en.Certificate.SerialNumber),
		Certificate: en.Certificate.Raw, Sealed: sealed, CreatedAt: now}
	kind := EventCreated
	var rev *Revocation
	prevSerial := ""
	if found {
		prevSerial = prev.Serial
		if renew {
			kind = EventRenewed
		}
		if prev.RevokedAt.IsZero() {
			rev = &Revocation{OrganizationID: c.OrganizationID, EmployeeID: p.EmployeeID, Serial: prev.Serial, RevokedAt: now,
				Reason: esign.ReasonSuperseded}
		}
	}
	ev := s.event(c, p.EmployeeID, kind, rec.Serial, now)
	if rev != nil {
		ev.Detail = "superseded " + prev.Serial
	}
	if err := s.store.PutSignature(ctx, rec, prevSerial, code, rev, ev); err != nil {
		if errors.Is(err, ErrStale) {
			// Another request created (or renewed) it first, or used the code.
			return Profile{}, domain.NewError(CodeSignatureExists, "the signature was created or renewed by another request meanwhile")
		}
		return Profile{}, err
	}
	pr, _, err := s.profile(rec)
	return pr, err
}

// Profile reads the employee's own certificate.
func (s *Service) Profile(ctx context.Context, c Caller) (Profile, error) {
	p, err := s.employee(ctx, c)
	if err != nil {
		return Profile{}, err
	}
	rec, err := s.store.Signature(ctx, c.OrganizationID, p.EmployeeID)
	if errors.Is(err, domain.ErrNotFound) {
		return Profile{}, domain.NewError(CodeNoSignature, "the employee has no signature yet")
	}
	if err != nil {
		return Profile{}, err
	}
	pr, _, err := s.profile(rec)
	return pr, err
}

// SignInput is the body of a signing call: the signature password and the
// documents, base64 (standard alphabet, padded).
type SignInput struct {
	Password  string   `json:"password"`
	Documents []string `json:"documents"`
}

// Signed answers a signing call: one detached CMS signature (DER, base64)
// per document, in their order.
type Signed struct {
	Serial     string    `json:"serial"`
	SignedAt   time.Time `json:"signedAt"`
	Signatures []string  `json:"signatures"`
}

// decodeDocuments checks the documents' count and sizes before anything
// is read or derived.
func decodeDocuments(in SignInput) ([][]byte, error) {
	var probs domain.Problems
	if in.Password == "" {
		probs.Add("password", "required", "the signature password is required")
	}
	if len(in.Documents) == 0 || len(in.Documents) > MaxDocuments {
		probs.Add("documents", "count", fmt.Sprintf("sign 1 to %d documents at once", MaxDocuments))
		return nil, probs.Err()
	}
	docs := make([][]byte, len(in.Documents))
	total := 0
	for i, d := range in.Documents {
		field := fmt.Sprintf("documents[%d]", i)
		if base64.StdEncoding.DecodedLen(len(d)) > MaxDocumentBytes+2 {
			probs.Add(field, "too_large", "a document is at most 1 MiB")
			continue
		}
		b, err := base64.StdEncoding.DecodeString(d)
		switch {
		case err != nil:
			probs.Add(field, "invalid_base64", "a document is standard base64")
		case len(b) == 0:
			probs.Add(field, "empty", "a document is not empty")
		case len(b) > MaxDocumentBytes:
			probs.Add(field, "too_large", "a document is at most 1 MiB")
		}
		docs[i] = b
		total += len(b)
	}
	if total > MaxDocumentsBytes {
		probs.Add("documents", "too_large", "the documents of one call are at most 4 MiB together")
	}
	return docs, probs.Err()
}

// Sign signs the documents with the employee's key: one key derivation
// for all. A wrong password counts toward the lockout before the answer;
// however many arrive at once, at most MaxWrongPasswords are compared in
// a window, then signing is locked and the employee told.
func (s *Service) Sign(ctx context.Context, c Caller, in SignInput) (Signed, error) {
	docs, err := decodeDocuments(in)
	if err != nil {
		return Signed{}, err
	}
	p, err := s.employee(ctx, c)
	if err != nil {
		return Signed{}, err
	}
	if err := s.guard.Check(ctx, c.OrganizationID, p.EmployeeID); err != nil {
		return Signed{}, err
	}
	rec, err := s.store.Signature(ctx, c.OrganizationID, p.EmployeeID)
	if errors.Is(err, domain.ErrNotFound) {
		return Signed{}, domain.NewError(CodeNoSignature, "the employee has no signature yet")
	}
	if err != nil {
		return Signed{}, err
	}
	pr, cert, err := s.profile(rec)
	if err != nil {
		return Signed{}, err
	}
	switch pr.State {
	case StateRevoked:
		return Signed{}, domain.NewError(CodeSignatureRevoked, "the signature was revoked; create a new one")
	case StateExpired:
		return Signed{}, domain.NewError(CodeSignatureExpired, "the signature expired; renew it")
	}
	sealed, err := esign.ParseSealedKey(rec.Sealed)
	if err != nil {
		return Signed{}, err
	}
	now := s.clock.Now()
	att, err := s.store.TakeSigningAttempt(ctx, c.OrganizationID, p.EmployeeID, s.cfg.MaxWrongPasswords, s.cfg.Window, now)
	if errors.Is(err, ErrStale) {
		wait := att.LockedUntil.Sub(now)
		if att.LockedUntil.IsZero() {
			wait = att.WindowEnds.Sub(now)
		}
		s.audit(ctx, s.event(c, p.EmployeeID, EventSignRefused, rec.Serial, now).with("locked", len(docs)))
		e := domain.RateLimited("signing is locked after wrong signature passwords", wait)
		e.Code = CodeLocked
		return Signed{}, e
	}
	if err != nil {
		return Signed{}, err
	}
	sigs, err := s.keyring.SignMany(ctx, sealed, cert, in.Password, docs)
	if errors.Is(err, esign.ErrWrongPassword) {
		detail := "the signature password is wrong"
		if att.Count >= s.cfg.MaxWrongPasswords {
			until := now.Add(s.cfg.LockFor)
			if err := s.store.LockSigning(ctx, c.OrganizationID, p.EmployeeID, until); err != nil {
				return Signed{}, err
			}
			s.tellLocked(ctx, p, now)
			detail += "; signing is locked for 15 minutes"
		}
		s.audit(ctx, s.event(c, p.EmployeeID, EventSignRefused, rec.Serial, now).with("wrong_password", len(docs)))
		return Signed{}, domain.NewError(CodePasswordWrong, detail)
	}
	if err != nil {
		return Signed{}, err
	}
	if err := s.store.ClearSigningAttempts(ctx, c.OrganizationID, p.EmployeeID); err != nil {
		return Signed{}, err
	}
	s.audit(ctx, s.event(c, p.EmployeeID, EventSigned, rec.Serial, now).with("", len(docs)))
	out := Signed{Serial: rec.Serial, SignedAt: now.UTC(), Signatures: make([]string, len(sigs))}
	for i, sig := range sigs {
		out.Signatures[i] = base64.StdEncoding.EncodeToString(sig)
	}
	return out, nil
}

// tellLocked tells the employee, by SMS to their phone, that signing is
// locked: a lock they did not cause means someone has their session. A
// lost message does not undo the lock, so a failure is only logged.
func (s *Service) tellLocked(ctx context.Context, p domain.Person, now time.Time) {
	if p.Phone == "" {
		return
	}
	msg := notify.Message{ID: s.ids.New(), OrganizationID: p.OrganizationID, Kind: KindSigningLocked, Channel: domain.ChannelSMS,
		To: string(p.Phone), EmployeeID: p.EmployeeID, CreatedAt: now,
		Text: fmt.Sprintf("Кабинет: подписание документов заблокировано на %d минут — пароль подписи %d раз введён неверно. "+
			"Если это были не вы, смените пароль входа.", int(s.cfg.LockFor/time.Minute), s.cfg.MaxWrongPasswords)}
	if err := s.queue.Enqueue(ctx, msg); err != nil {
		platform.Logger(ctx).Warn("signing locked: message not queued", "error", err.Error())
	}
}

// KindSigningLocked is the message that tells an employee signing is locked.
const KindSigningLocked notify.Kind = "signature_locked"

// Revoke revokes the employee's signature (dismissal, a disabled cabinet):
// see Revoker.Revoke.
func (s *Service) Revoke(ctx context.Context, orgID, employeeID string, reason esign.RevocationReason) error {
	return (&Revoker{store: s.store, clock: s.clock, ids: s.ids}).Revoke(ctx, orgID, employeeID, reason)
}

// Revoker revokes the signatures of employees who lose their cabinet
// (publication's cabinet sync calls it). It needs no KMS: a revocation is
// a record the CRL lists when next made.
type Revoker struct {
	store Store
	clock platform.Clock
	ids   platform.IDs
}

// NewRevoker builds the revoker; no port may be nil.
func NewRevoker(store Store, clock platform.Clock, ids platform.IDs) (*Revoker, error) {
	if err := platform.Required("signatures.Revoker", "store", store, "clock", clock, "ids", ids); err != nil {
		return nil, err
	}
	return &Revoker{store: store, clock: clock, ids: ids}, nil
}

// Revoke revokes the employee's signature with reason, the revocation
// record and the audit event in one write. Signatures made before stay
// valid for what they signed. No signature, or one revoked already, is
// not an error; one renewed meanwhile is revoked as renewed.
func (r *Revoker) Revoke(ctx context.Context, orgID, employeeID string, reason esign.RevocationReason) error {
	for range 3 {
		rec, err := r.store.Signature(ctx, orgID, employeeID)
		if errors.Is(err, domain.ErrNotFound) {
			return nil
		}
		if err != nil || !rec.RevokedAt.IsZero() {
			return err
		}
		now := r.clock.Now()
		rev := Revocation{OrganizationID: orgID, EmployeeID: employeeID, Serial: rec.Serial, RevokedAt: now, Reason: reason}
		ev := Event{OrganizationID: orgID, EmployeeID: employeeID, ID: r.ids.New(), Kind: EventRevoked, At: now.UTC(), Serial: rec.Serial,
			Reason: reasonName(reason)}
		if err = r.store.RevokeSignature(ctx, rev, ev); !errors.Is(err, ErrStale) {
			return err
		}
	}
	return fmt.Errorf("signatures: revoke %s/%s: the signature keeps changing", orgID, employeeID)
}

// reasonName is a revocation reason as the audit shows it.
func reasonName(r esign.RevocationReason) string {
	switch r {
	case esign.ReasonSuperseded:
		return "superseded"
	case esign.ReasonAffiliationChanged:
		return "dismissed"
	case esign.ReasonCessationOfOperation:
		return "cabinet_disabled"
	case esign.ReasonKeyCompromise:
		return "key_compromise"
	}
	return "unspecified"
}

// ca is the deployment's CA for this request: its certificate is read
// once per container, made and stored once per deployment (the first cold
// start wins; the others read the stored one), and its signer honours ctx.
func (s *Service) ca(ctx context.Context) (*esign.CA, error) {
	s.caMu.Lock()
	defer s.caMu.Unlock()
	signer, err := s.signerFor(ctx)
	if err != nil {
		return nil, err
	}
	if s.caCrt == nil {
		der, err := s.store.CACertificate(ctx)
		if errors.Is(err, domain.ErrNotFound) {
			der, err = esign.CreateCACertificate(signer, s.cfg.CAName, s.clock.Now(), esign.DefaultCAValidity, rand.Reader)
			if err != nil {
				return nil, err
			}
			if err = s.store.PutCACertificate(ctx, der); errors.Is(err, ErrStale) {
				der, err = s.store.CACertificate(ctx)
			}
		}
		if err != nil {
			return nil, err
		}
		ca, err := esign.NewCA(der, signer)
		if err != nil {
			return nil, err
		}
		s.caDER, s.caCrt = der, ca.Certificate
	}
	return &esign.CA{Certificate: s.caCrt, Signer: signer, CRLURL: s.cfg.CRLURL, CertificateURL: s.cfg.CertificateURL}, nil
}

// CACertificate is the deployment's CA certificate (DER), for anyone.
func (s *Service) CACertificate(ctx context.Context) ([]byte, error) {
	if _, err := s.ca(ctx); err != nil {
		return nil, err
	}
	return s.caDER, nil
}

// CRL is the CA's certificate revocation list (DER), valid for
// esign.CRLValidity, made from every revocation recorded.
func (s *Service) CRL(ctx context.Context) ([]byte, error) {
	ca, err := s.ca(ctx)
	if err != nil {
		return nil, err
	}
	revs, err := s.store.Revocations(ctx)
	if err != nil {
		return nil, err
	}
	list := make([]esign.Revocation, 0, len(revs))
	for _, r := range revs {
		n, ok := parseSerial(r.Serial)
		if !ok {
			return nil, fmt.Errorf("signatures: stored revocation with serial %q", r.Serial)
		}
		list = append(list, esign.Revocation{Serial: n, RevokedAt: r.RevokedAt, Reason: r.Reason})
	}
	now := s.clock.Now()
	return ca.CRL(list, now, now.Add(esign.CRLValidity), nil)
}

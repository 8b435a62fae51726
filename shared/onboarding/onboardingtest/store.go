// Package onboardingtest holds in-memory fakes of the onboarding ports
// (Store, Limiter) and the contract suites that both they and the DynamoDB
// repositories pass, so use-case tests can run on the fakes.
package onboardingtest

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"maps"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/kabinet/kabinet/shared/domain"
	"github.com/kabinet/kabinet/shared/notify"
	"github.com/kabinet/kabinet/shared/notify/notifytest"
	"github.com/kabinet/kabinet/shared/onboarding"
)

// ErrExists means a write that must create a record found it there (the
// repository's failed attribute_not_exists condition).
var ErrExists = errors.New("record exists")

// Store is an in-memory onboarding.Store. It holds what the onboarding
// records of the table hold (organizations, people and their sign-in
// entries, codes, refresh tokens, API keys, notification preferences), so
// other fakes (cabinets') can build on it, under its mutex, as their
// repositories share the table.
type Store struct {
	mu      *sync.Mutex
	out     *notifytest.Outbox
	orgs    map[string]*org
	people  map[string]domain.Person // by org/person
	logins  map[string]loginEntry    // by org/sort key
	codes   map[string]onboarding.CodeRecord
	refresh map[string]refreshToken // by org/hash
	revoked map[string]time.Time    // refresh token families by org/family, until
	// sessions by org/person/session: the person is part of the key, as
	// in the table's sort key, so one person cannot reach another's.
	sessions map[string]onboarding.SessionRecord
	keys     map[string]domain.APIKey // by org/key
	prefs    map[string]notify.Preferences
}

// refreshToken is a refresh token as the table keeps it: used ones stay
// until they expire, so that a reuse is seen.
type refreshToken struct {
	onboarding.RefreshToken
	used bool
}

type org struct {
	domain.Organization
	activeKeys int
}

// loginEntry makes a person findable at sign-in by a login (a phone, an
// e-mail or an own login), across organizations.
type loginEntry struct {
	login, orgID, personID string
}

var _ onboarding.Store = (*Store)(nil)

// New returns an empty store that stages messages in out (a new outbox when
// nil) and shares its mutex.
func New(out *notifytest.Outbox) *Store {
	if out == nil {
		out = notifytest.NewOutbox()
	}
	return &Store{mu: out.Mutex(), out: out, orgs: map[string]*org{}, people: map[string]domain.Person{},
		logins: map[string]loginEntry{}, codes: map[string]onboarding.CodeRecord{}, refresh: map[string]refreshToken{}, revoked: map[string]time.Time{},
		sessions: map[string]onboarding.SessionRecord{},
		keys:     map[string]domain.APIKey{}, prefs: map[string]notify.Preferences{}}
}

// Outbox is where the store stages messages.
func (s *Store) Outbox() *notifytest.Outbox { return s.out }

// Mutex guards the store (and its outbox); see notifytest.Outbox.Mutex.
func (s *Store) Mutex() *sync.Mutex { return s.mu }

// T keeps an instant as the repository does: in milliseconds, in UTC.
func T(t time.Time) time.Time {
	if t.IsZero() {
		return time.Time{}
	}
	return time.UnixMilli(t.UnixMilli()).UTC()
}

func personT(p domain.Person) domain.Person {
	p.PhoneVerifiedAt, p.EmailVerifiedAt, p.CreatedAt = T(p.PhoneVerifiedAt), T(p.EmailVerifiedAt), T(p.CreatedAt)
	return p
}

func codeK(orgID, purpose, slot string) string { return orgID + "/" + purpose + "/" + slot }

// CreateOrganization writes the organization, its responsible person, their
// login entries and the first API key: all or nothing.
func (s *Store) CreateOrganization(_ context.Context, o domain.Organization, p domain.Person, k domain.APIKey) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.orgs[o.ID] != nil || s.PersonExistsLocked(o.ID, p.ID) {
		return fmt.Errorf("create organization: %w", ErrExists)
	}
	for _, l := range []string{p.Phone.Login(), p.Email.Login()} {
		if s.LoginEntryExistsLocked(o.ID, "LOGIN#"+l) {
			return fmt.Errorf("create organization: %w", ErrExists)
		}
	}
	if _, ok := s.keys[o.ID+"/"+k.ID]; ok {
		return fmt.Errorf("create organization: %w", ErrExists)
	}
	o.CreatedAt = T(o.CreatedAt)
	s.orgs[o.ID] = &org{Organization: o, activeKeys: 1}
	s.PutPersonLocked(p)
	s.PutLoginEntryLocked(o.ID, "LOGIN#"+p.Phone.Login(), p.Phone.Login(), p.ID)
	s.PutLoginEntryLocked(o.ID, "LOGIN#"+p.Email.Login(), p.Email.Login(), p.ID)
	k.OrganizationID = o.ID
	k.CreatedAt, k.RevokedAt = T(k.CreatedAt), time.Time{}
	s.keys[o.ID+"/"+k.ID] = k
	return nil
}

// PersonExistsLocked tells whether the person exists; the caller holds Mutex.
func (s *Store) PersonExistsLocked(orgID, personID string) bool {
	_, ok := s.people[orgID+"/"+personID]
	return ok
}

// PutPersonLocked stores p; the caller holds Mutex.
func (s *Store) PutPersonLocked(p domain.Person) { s.people[p.OrganizationID+"/"+p.ID] = personT(p) }

// LoginEntryExistsLocked reports whether the organization has the entry
// with sort key sk; the caller holds Mutex.
func (s *Store) LoginEntryExistsLocked(orgID, sk string) bool {
	_, ok := s.logins[orgID+"/"+sk]
	return ok
}

// PutLoginEntryLocked makes personID findable by login, under sort key sk;
// the caller holds Mutex.
func (s *Store) PutLoginEntryLocked(orgID, sk, login, personID string) {
	s.logins[orgID+"/"+sk] = loginEntry{login: login, orgID: orgID, personID: personID}
}

// CodeLocked reads a code; the caller holds Mutex.
func (s *Store) CodeLocked(orgID, purpose, slot string) (onboarding.CodeRecord, bool) {
	c, ok := s.codes[codeK(orgID, purpose, slot)]
	return c, ok
}

// PutCodeLocked stores a code as it is; the caller holds Mutex.
func (s *Store) PutCodeLocked(c onboarding.CodeRecord) {
	s.codes[codeK(c.OrganizationID, c.Purpose, c.Slot)] = c
}

// Organization reads one organization.
func (s *Store) Organization(_ context.Context, orgID string) (domain.Organization, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	o := s.orgs[orgID]
	if o == nil {
		return domain.Organization{}, domain.ErrNotFound
	}
	return o.Organization, nil
}

// Person reads one person of an organization.
func (s *Store) Person(_ context.Context, orgID, personID string) (domain.Person, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p, ok := s.people[orgID+"/"+personID]
	if !ok {
		return domain.Person{}, domain.ErrNotFound
	}
	return p, nil
}

// PeopleByLogin finds up to max people, in any organization, with this
// login, in the order of the repository's index (organization, person).
func (s *Store) PeopleByLogin(_ context.Context, login string, max int) ([]domain.Person, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var hits []loginEntry
	for _, l := range s.logins {
		if l.login == login {
			hits = append(hits, l)
		}
	}
	sort.Slice(hits, func(i, j int) bool {
		return hits[i].orgID+"#PERSON#"+hits[i].personID < hits[j].orgID+"#PERSON#"+hits[j].personID
	})
	var out []domain.Person
	for _, l := range hits[:min(max, len(hits))] {
		if p, ok := s.people[l.orgID+"/"+l.personID]; ok {
			out = append(out, p)
		}
	}
	return out, nil
}

// Code reads the code kept in a slot, live or not.
func (s *Store) Code(_ context.Context, orgID, purpose, slot string) (onboarding.CodeRecord, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.codes[codeK(orgID, purpose, slot)]
	if !ok {
		return onboarding.CodeRecord{}, domain.ErrNotFound
	}
	return c, nil
}

// PutCode replaces the slot's code unless one was sent after notSentSince,
// and stages msg with it.
func (s *Store) PutCode(_ context.Context, r onboarding.CodeRecord, notSentSince time.Time, msg notify.Message) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if cur, ok := s.codes[codeK(r.OrganizationID, r.Purpose, r.Slot)]; ok && cur.SentAt.After(T(notSentSince)) {
		return onboarding.ErrCodeCooldown
	}
	if err := s.out.CheckStageLocked([]notify.Message{msg}); err != nil {
		return fmt.Errorf("put code: %w", err)
	}
	s.out.StageLocked([]notify.Message{msg}, r.SentAt)
	// A new code starts afresh: no attempts, unused, no setup token.
	s.codes[codeK(r.OrganizationID, r.Purpose, r.Slot)] = onboarding.CodeRecord{OrganizationID: r.OrganizationID,
		Purpose: r.Purpose, Slot: r.Slot, Subject: r.Subject, Channel: r.Channel, Destination: r.Destination, Hash: r.Hash,
		SentAt: T(r.SentAt), ExpiresAt: T(r.ExpiresAt)}
	return nil
}

// TakeCodeAttempt counts an attempt on a live code and returns it.
func (s *Store) TakeCodeAttempt(_ context.Context, orgID, purpose, slot string, maxAttempts int, now time.Time) (onboarding.CodeRecord, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	k := codeK(orgID, purpose, slot)
	c, ok := s.codes[k]
	if !ok || c.Attempts >= maxAttempts || !c.ExpiresAt.After(T(now)) || !c.UsedAt.IsZero() {
		return onboarding.CodeRecord{}, onboarding.ErrNoLiveCode
	}
	c.Attempts++
	s.codes[k] = c
	return c, nil
}

// RedeemCode marks the code used, if it is still this code and unused.
func (s *Store) RedeemCode(_ context.Context, r onboarding.CodeRecord, setupTokenHash string, setupExpiresAt, now time.Time) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	k := codeK(r.OrganizationID, r.Purpose, r.Slot)
	c, ok := s.codes[k]
	if !ok || !c.UsedAt.IsZero() || c.Hash != r.Hash {
		return onboarding.ErrStale
	}
	c.UsedAt, c.SetupTokenHash, c.SetupExpiresAt = T(now), setupTokenHash, T(setupExpiresAt)
	s.codes[k] = c
	return nil
}

// SetPassword consumes the setup token and sets the password: both or neither.
func (s *Store) SetPassword(_ context.Context, r onboarding.CodeRecord, passwordHash string, now time.Time) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	k := codeK(r.OrganizationID, r.Purpose, r.Slot)
	c, ok := s.codes[k]
	pk := r.OrganizationID + "/" + r.Subject
	p, found := s.people[pk]
	if !ok || c.SetupTokenHash == "" || c.SetupTokenHash != r.SetupTokenHash || !c.SetupExpiresAt.After(T(now)) || !found {
		return onboarding.ErrStale
	}
	c.SetupTokenHash = ""
	s.codes[k] = c
	p.PasswordHash = passwordHash
	p.SessionEpoch++
	if r.Channel == domain.ChannelEmail {
		p.EmailVerifiedAt = T(now)
	} else {
		p.PhoneVerifiedAt = T(now)
	}
	s.people[pk] = p
	return nil
}

// PutRefreshToken stores a refresh token.
func (s *Store) PutRefreshToken(_ context.Context, t onboarding.RefreshToken) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	k := t.OrganizationID + "/" + t.Hash
	if _, ok := s.refresh[k]; ok {
		return fmt.Errorf("put refresh token: %w", ErrExists)
	}
	t.ExpiresAt = T(t.ExpiresAt)
	s.refresh[k] = refreshToken{RefreshToken: t}
	return nil
}

// TakeRefreshToken marks a live refresh token of a family that is not
// revoked used and returns it; a used one comes back with ErrRefreshReused.
func (s *Store) TakeRefreshToken(_ context.Context, orgID, hash string, now time.Time) (onboarding.RefreshToken, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	k := orgID + "/" + hash
	t, ok := s.refresh[k]
	switch {
	case !ok:
		return onboarding.RefreshToken{}, onboarding.ErrStale
	case t.used:
		return t.RefreshToken, onboarding.ErrRefreshReused
	case !t.ExpiresAt.After(T(now)):
		return onboarding.RefreshToken{}, onboarding.ErrStale
	}
	t.used = true
	s.refresh[k] = t
	if _, revoked := s.revoked[orgID+"/"+t.FamilyID]; revoked && t.FamilyID != "" {
		return onboarding.RefreshToken{}, onboarding.ErrStale
	}
	return t.RefreshToken, nil
}

// RevokeRefreshFamily revokes every token of the family.
func (s *Store) RevokeRefreshFamily(_ context.Context, orgID, familyID string, until time.Time) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.revoked[orgID+"/"+familyID] = T(until)
	return nil
}

// RefreshToken reads a refresh token, live or not.
func (s *Store) RefreshToken(_ context.Context, orgID, hash string) (onboarding.RefreshToken, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.refresh[orgID+"/"+hash]
	if !ok {
		return onboarding.RefreshToken{}, domain.ErrNotFound
	}
	return t.RefreshToken, nil
}

func sessionK(orgID, personID, id string) string { return orgID + "/" + personID + "/" + id }

func sessionT(r onboarding.SessionRecord) onboarding.SessionRecord {
	r.CreatedAt, r.LastUsedAt, r.ExpiresAt = T(r.CreatedAt), T(r.LastUsedAt), T(r.ExpiresAt)
	return r
}

// StartSession records a new sign-in.
func (s *Store) StartSession(_ context.Context, r onboarding.SessionRecord) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	k := sessionK(r.OrganizationID, r.PersonID, r.ID)
	if _, ok := s.sessions[k]; ok {
		return fmt.Errorf("start session: %w", ErrExists)
	}
	s.sessions[k] = sessionT(r)
	return nil
}

// TouchSession records a refresh of a session that was not ended.
func (s *Store) TouchSession(_ context.Context, r onboarding.SessionRecord) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	k := sessionK(r.OrganizationID, r.PersonID, r.ID)
	cur, ok := s.sessions[k]
	if !ok {
		return domain.ErrNotFound
	}
	r = sessionT(r)
	cur.LastUsedAt, cur.ExpiresAt, cur.SourceIP, cur.UserAgent = r.LastUsedAt, r.ExpiresAt, r.SourceIP, r.UserAgent
	s.sessions[k] = cur
	return nil
}

// Sessions pages through one person's sessions in id order; the cursor is
// the repository's form (the last session's sort key, base64).
func (s *Store) Sessions(_ context.Context, orgID, personID string, limit int, cursor string) ([]onboarding.SessionRecord, string, error) {
	prefix := "SESSION#" + personID + "#"
	after := ""
	if cursor != "" {
		b, err := base64.RawURLEncoding.DecodeString(cursor)
		if err != nil || !strings.HasPrefix(string(b), prefix) || len(b) > 256 {
			return nil, "", BadCursor()
		}
		after = strings.TrimPrefix(string(b), prefix)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var all []onboarding.SessionRecord
	for _, r := range s.sessions {
		if r.OrganizationID == orgID && r.PersonID == personID && (cursor == "" || r.ID > after) {
			all = append(all, r)
		}
	}
	sort.Slice(all, func(i, j int) bool { return all[i].ID < all[j].ID })
	if len(all) <= limit {
		return all, "", nil
	}
	page := all[:limit]
	return page, base64.RawURLEncoding.EncodeToString([]byte(prefix + page[limit-1].ID)), nil
}

// EndSession deletes the person's session and revokes its family: both or
// neither.
func (s *Store) EndSession(_ context.Context, orgID, personID, sessionID string, until time.Time) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	k := sessionK(orgID, personID, sessionID)
	if _, ok := s.sessions[k]; !ok {
		return domain.ErrNotFound
	}
	delete(s.sessions, k)
	s.revoked[orgID+"/"+sessionID] = T(until)
	return nil
}

// ResetPassword consumes a live code and sets the password, ending every
// session: all or nothing.
func (s *Store) ResetPassword(_ context.Context, r onboarding.CodeRecord, passwordHash string, now time.Time) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	k := codeK(r.OrganizationID, r.Purpose, r.Slot)
	c, ok := s.codes[k]
	pk := r.OrganizationID + "/" + r.Subject
	p, found := s.people[pk]
	if !ok || !c.UsedAt.IsZero() || c.Hash != r.Hash || !c.ExpiresAt.After(T(now)) || !found {
		return onboarding.ErrStale
	}
	c.UsedAt = T(now)
	s.codes[k] = c
	p.PasswordHash = passwordHash
	p.SessionEpoch++
	if r.Channel == domain.ChannelEmail {
		p.EmailVerifiedAt = T(now)
	} else {
		p.PhoneVerifiedAt = T(now)
	}
	s.people[pk] = p
	return nil
}

// ChangePassword replaces the password hash if it is still oldHash, ending
// every session.
func (s *Store) ChangePassword(_ context.Context, orgID, personID, oldHash, newHash string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	pk := orgID + "/" + personID
	p, ok := s.people[pk]
	if !ok || p.PasswordHash == "" || p.PasswordHash != oldHash {
		return onboarding.ErrStale
	}
	p.PasswordHash = newHash
	p.SessionEpoch++
	s.people[pk] = p
	return nil
}

// APIKey reads one API key of the organization.
func (s *Store) APIKey(_ context.Context, orgID, keyID string) (domain.APIKey, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	k, ok := s.keys[orgID+"/"+keyID]
	if !ok {
		return domain.APIKey{}, domain.ErrNotFound
	}
	return k, nil
}

// APIKeys pages through the organization's API keys in id order; the
// cursor is the repository's (the last key's sort key, base64).
func (s *Store) APIKeys(_ context.Context, orgID string, limit int, cursor string) ([]domain.APIKey, string, error) {
	after := ""
	if cursor != "" {
		b, err := base64.RawURLEncoding.DecodeString(cursor)
		if err != nil || !strings.HasPrefix(string(b), "APIKEY#") || len(b) > 256 {
			return nil, "", BadCursor()
		}
		after = strings.TrimPrefix(string(b), "APIKEY#")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var all []domain.APIKey
	for _, k := range s.keys {
		if k.OrganizationID == orgID && (cursor == "" || k.ID > after) {
			all = append(all, k)
		}
	}
	sort.Slice(all, func(i, j int) bool { return all[i].ID < all[j].ID })
	if len(all) <= limit {
		return all, "", nil
	}
	page := all[:limit]
	return page, base64.RawURLEncoding.EncodeToString([]byte("APIKEY#" + page[limit-1].ID)), nil
}

// BadCursor is the repositories' answer to a cursor they did not give.
func BadCursor() error {
	return &domain.Error{Code: domain.CodeValidationFailed, Detail: "the cursor is invalid",
		Fields: []domain.FieldError{{Field: "cursor", Code: "cursor_invalid", Message: "use a nextCursor value as given"}}}
}

// AddAPIKey stores a new key if the organization has fewer than maxActive.
func (s *Store) AddAPIKey(_ context.Context, k domain.APIKey, maxActive int) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	o := s.orgs[k.OrganizationID]
	if o == nil || o.activeKeys >= maxActive {
		return onboarding.ErrKeyLimit
	}
	if _, ok := s.keys[k.OrganizationID+"/"+k.ID]; ok {
		return fmt.Errorf("add api key: %w", ErrExists)
	}
	o.activeKeys++
	k.CreatedAt, k.RevokedAt = T(k.CreatedAt), time.Time{}
	s.keys[k.OrganizationID+"/"+k.ID] = k
	return nil
}

// RevokeAPIKey revokes an active key; domain.ErrNotFound if there is none.
func (s *Store) RevokeAPIKey(_ context.Context, orgID, keyID string, now time.Time) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	k, ok := s.keys[orgID+"/"+keyID]
	if !ok || !k.RevokedAt.IsZero() {
		return domain.ErrNotFound
	}
	k.RevokedAt = T(now)
	s.keys[orgID+"/"+keyID] = k
	if o := s.orgs[orgID]; o != nil {
		o.activeKeys--
	}
	return nil
}

// NotificationPreferences reads the organization's notification settings,
// or the defaults.
func (s *Store) NotificationPreferences(_ context.Context, orgID string) (notify.Preferences, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if p, ok := s.prefs[orgID]; ok {
		return clonePrefs(p), nil
	}
	return notify.DefaultPreferences(orgID), nil
}

// SetNotificationPreferences stores p as it is (for tests; the use cases
// that save them have their own ports).
func (s *Store) SetNotificationPreferences(p notify.Preferences) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.prefs[p.OrganizationID] = clonePrefs(p)
}

// ErrVersion means the record changed since it was read.
var ErrVersion = errors.New("changed meanwhile")

// SaveNotificationPreferences stores p if the stored version is still
// prevVersion (0: none stored); ErrVersion otherwise.
func (s *Store) SaveNotificationPreferences(_ context.Context, p notify.Preferences, prevVersion int64) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.prefs[p.OrganizationID].Version != prevVersion {
		return ErrVersion
	}
	p.Version, p.UpdatedAt = prevVersion+1, T(p.UpdatedAt)
	s.prefs[p.OrganizationID] = clonePrefs(p)
	return nil
}

// clonePrefs is p with its own map and quiet hours, so a caller's changes
// never reach the store.
func clonePrefs(p notify.Preferences) notify.Preferences {
	p.Notices = maps.Clone(p.Notices)
	if p.Notices == nil {
		p.Notices = map[notify.Kind]bool{}
	}
	if p.QuietHours != nil {
		q := *p.QuietHours
		p.QuietHours = &q
	}
	return p
}

// SetPersonDisabledLocked disables or re-enables a person's sign-in, if
// the person exists; the caller holds Mutex.
func (s *Store) SetPersonDisabledLocked(orgID, personID string, disabled bool) {
	if p, ok := s.people[orgID+"/"+personID]; ok {
		p.Disabled = disabled
		s.people[orgID+"/"+personID] = p
	}
}

// UpdateOrganization changes one organization in place (the usage fake's
// service period and statistics setting live on it, as on the item);
// domain.ErrNotFound if there is none.
func (s *Store) UpdateOrganization(orgID string, fn func(*domain.Organization)) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	o := s.orgs[orgID]
	if o == nil {
		return domain.ErrNotFound
	}
	fn(&o.Organization)
	return nil
}

// Organizations returns every organization, in id order.
func (s *Store) Organizations() []domain.Organization {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]domain.Organization, 0, len(s.orgs))
	for _, o := range s.orgs {
		out = append(out, o.Organization)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

package dynamostore

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/kabinet/kabinet/shared/domain"
	"github.com/kabinet/kabinet/shared/notify"
	"github.com/kabinet/kabinet/shared/onboarding"
)

// Store is the onboarding repository: organizations, people, their sign-in
// entries, one-time codes, refresh tokens and API keys. Its core is also
// what NewLimiter, NewLedger and NewIdempotency build on.
type Store struct {
	t *table
}

// New returns the onboarding repository on the named table.
func New(db API, table string) *Store {
	return &Store{t: newTable(db, table)}
}

var _ onboarding.Store = (*Store)(nil)

type orgItem struct {
	key
	Type                string
	ID                  string
	Name                string
	INN                 string
	KPP                 string `dynamodbav:",omitempty"`
	DirectorName        string
	DirectorPosition    string
	ResponsiblePersonID string
	ActiveAPIKeys       int
	CreatedAt           int64
	// The service period (usage.go); absent on organizations connected
	// before periods were stored.
	TrialEndsAt int64 `dynamodbav:",omitempty"`
	ActiveUntil int64 `dynamodbav:",omitempty"`
	UsageStats  bool  `dynamodbav:",omitempty"`
	// GSI5: the registry of organizations the operator pages through;
	// GSI6: the sparse list of those that allow usage statistics.
	GSI5PK string `dynamodbav:",omitempty"`
	GSI5SK string `dynamodbav:",omitempty"`
	GSI6PK string `dynamodbav:",omitempty"`
	GSI6SK string `dynamodbav:",omitempty"`
}

type personItem struct {
	key
	Type            string
	ID              string
	OrganizationID  string
	Role            string
	FullName        string
	Phone           string
	Email           string
	PasswordHash    string `dynamodbav:",omitempty"`
	EmployeeID      string `dynamodbav:",omitempty"`
	Login           string `dynamodbav:",omitempty"`
	Disabled        bool   `dynamodbav:",omitempty"`
	PhoneVerifiedAt int64  `dynamodbav:",omitempty"`
	EmailVerifiedAt int64  `dynamodbav:",omitempty"`
	CreatedAt       int64
	SessionEpoch    int `dynamodbav:",omitempty"`
}

// loginItem makes a person findable by phone or e-mail at sign-in, through
// GSI1, before the tenant is known.
type loginItem struct {
	key
	Type     string
	GSI1PK   string
	GSI1SK   string
	PersonID string
}

type apiKeyItem struct {
	key
	Type       string
	ID         string
	Prefix     string
	SecretHash string
	CreatedAt  int64
	RevokedAt  int64 `dynamodbav:",omitempty"`
}

type codeItem struct {
	key
	Type           string
	Purpose        string
	Slot           string
	Subject        string
	Channel        string
	Destination    string
	Hash           string
	Attempts       int
	SentAt         int64
	ExpiresAt      int64
	UsedAt         int64  `dynamodbav:",omitempty"`
	SetupTokenHash string `dynamodbav:",omitempty"`
	SetupExpiresAt int64  `dynamodbav:",omitempty"`
	TTL            int64  `dynamodbav:"ttl"`
}

type refreshItem struct {
	key
	Type      string
	PersonID  string
	FamilyID  string `dynamodbav:",omitempty"`
	ExpiresAt int64
	UsedAt    int64 `dynamodbav:",omitempty"`
	Epoch     int   `dynamodbav:",omitempty"`
	Tracked   bool  `dynamodbav:",omitempty"`
	TTL       int64 `dynamodbav:"ttl"`
}

// sessionItem is one sign-in of a person (a refresh token family), under
// the person in its sort key so that a query lists one person's sessions
// and no other's.
type sessionItem struct {
	key
	Type       string
	ID         string
	PersonID   string
	Epoch      int `dynamodbav:",omitempty"`
	CreatedAt  int64
	LastUsedAt int64
	ExpiresAt  int64
	SourceIP   string `dynamodbav:",omitempty"`
	UserAgent  string `dynamodbav:",omitempty"`
	TTL        int64  `dynamodbav:"ttl"`
}

// refreshFamilyItem marks a revoked refresh token family; a family without
// one is live.
type refreshFamilyItem struct {
	key
	Type         string
	RevokedUntil int64
	TTL          int64 `dynamodbav:"ttl"`
}

func loginFor(orgID, personID, login string) loginItem {
	it := loginItem{key: loginKey(orgID, login), Type: "Login", PersonID: personID}
	it.GSI1PK, it.GSI1SK = loginGSI1(orgID, personID, login)
	return it
}

// CreateOrganization writes the organization, its responsible person, their
// login entries and the first API key in one transaction: all or nothing.
// CreateOrganization writes the organization, its responsible person, their
// login entries and the first API key in one transaction: all or nothing.
func (s *Store) CreateOrganization(ctx context.Context, org domain.Organization, p domain.Person, k domain.APIKey) error {
	items := []any{
		orgItem{key: orgKey(org.ID), Type: "Organization", ID: org.ID, Name: org.Name, INN: string(org.INN),
			KPP: string(org.KPP), DirectorName: org.Director.FullName, DirectorPosition: org.Director.Position,
			ResponsiblePersonID: org.ResponsiblePersonID, ActiveAPIKeys: 1, CreatedAt: ms(org.CreatedAt),
			TrialEndsAt: ms(org.Service.TrialEndsAt), ActiveUntil: ms(org.Service.ActiveUntil),
			GSI5PK: registryPK, GSI5SK: org.ID},
		toPersonItem(p),
		loginFor(org.ID, p.ID, p.Phone.Login()),
		loginFor(org.ID, p.ID, p.Email.Login()),
		apiKeyItem{key: apiKeyKey(org.ID, k.ID), Type: "APIKey", ID: k.ID, Prefix: k.Prefix, SecretHash: k.SecretHash, CreatedAt: ms(k.CreatedAt)},
	}
	actions := make([]types.TransactWriteItem, 0, len(items))
	for _, it := range items {
		put, err := s.t.put(it, notExists())
		if err != nil {
			return err
		}
		actions = append(actions, put)
	}
	return s.t.transact(ctx, "create organization", org.ID, actions...)
}

func toPersonItem(p domain.Person) personItem {
	return personItem{key: personKey(p.OrganizationID, p.ID), Type: "Person", ID: p.ID, OrganizationID: p.OrganizationID,
		Role: string(p.Role), FullName: p.FullName, Phone: string(p.Phone), Email: string(p.Email),
		PasswordHash: p.PasswordHash, EmployeeID: p.EmployeeID, Login: string(p.Login), Disabled: p.Disabled,
		PhoneVerifiedAt: ms(p.PhoneVerifiedAt), EmailVerifiedAt: ms(p.EmailVerifiedAt), CreatedAt: ms(p.CreatedAt),
		SessionEpoch: p.SessionEpoch}
}

// Organization reads one organization.
func (s *Store) Organization(ctx context.Context, orgID string) (domain.Organization, error) {
	var it orgItem
	if err := s.t.get(ctx, orgKey(orgID), &it); err != nil {
		return domain.Organization{}, err
	}
	return fromOrgItem(it), nil
}

func fromOrgItem(it orgItem) domain.Organization {
	return domain.Organization{ID: it.ID, Name: it.Name, INN: domain.INN(it.INN), KPP: domain.KPP(it.KPP),
		Director:            domain.Director{FullName: it.DirectorName, Position: it.DirectorPosition},
		ResponsiblePersonID: it.ResponsiblePersonID, CreatedAt: fromMS(it.CreatedAt),
		Service:         domain.ServicePeriod{TrialEndsAt: fromMS(it.TrialEndsAt), ActiveUntil: fromMS(it.ActiveUntil)},
		UsageStatistics: it.UsageStats}
}

// Person reads one person of an organization.
func (s *Store) Person(ctx context.Context, orgID, personID string) (domain.Person, error) {
	var it personItem
	if err := s.t.get(ctx, personKey(orgID, personID), &it); err != nil {
		return domain.Person{}, err
	}
	return domain.Person{ID: it.ID, OrganizationID: it.OrganizationID, Role: domain.Role(it.Role), FullName: it.FullName,
		Phone: domain.Phone(it.Phone), Email: domain.Email(it.Email), PasswordHash: it.PasswordHash,
		EmployeeID: it.EmployeeID, Login: domain.Login(it.Login), Disabled: it.Disabled,
		PhoneVerifiedAt: fromMS(it.PhoneVerifiedAt), EmailVerifiedAt: fromMS(it.EmailVerifiedAt), CreatedAt: fromMS(it.CreatedAt),
		SessionEpoch: it.SessionEpoch}, nil
}

// PeopleByLogin finds up to max people, in any organization, with this login.
func (s *Store) PeopleByLogin(ctx context.Context, login string, max int) ([]domain.Person, error) {
	logins, err := all[loginItem](ctx, s.t, query{op: "query login", index: "GSI1", pk: "LOGIN#" + login, maxReads: 1}, max)
	if err != nil {
		return nil, err
	}
	people := make([]domain.Person, 0, len(logins))
	for _, l := range logins {
		p, err := s.Person(ctx, strings.TrimPrefix(l.PK, "ORG#"), l.PersonID)
		if errors.Is(err, domain.ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, err
		}
		people = append(people, p)
	}
	return people, nil
}

func toCodeRecord(orgID string, it codeItem) onboarding.CodeRecord {
	return onboarding.CodeRecord{OrganizationID: orgID, Purpose: it.Purpose, Slot: it.Slot, Subject: it.Subject,
		Channel: domain.Channel(it.Channel), Destination: it.Destination, Hash: it.Hash, Attempts: it.Attempts,
		SentAt: fromMS(it.SentAt), ExpiresAt: fromMS(it.ExpiresAt), UsedAt: fromMS(it.UsedAt),
		SetupTokenHash: it.SetupTokenHash, SetupExpiresAt: fromMS(it.SetupExpiresAt)}
}

// Code reads the code kept in a slot, live or not.
func (s *Store) Code(ctx context.Context, orgID, purpose, slot string) (onboarding.CodeRecord, error) {
	var it codeItem
	if err := s.t.get(ctx, codeKey(orgID, purpose, slot), &it); err != nil {
		return onboarding.CodeRecord{}, err
	}
	return toCodeRecord(orgID, it), nil
}

// PutCode replaces the slot's code unless one was sent after notSentSince,
// and stages the message carrying it in the same transaction.
func (s *Store) PutCode(ctx context.Context, r onboarding.CodeRecord, notSentSince time.Time, msg notify.Message) error {
	it := codeItem{key: codeKey(r.OrganizationID, r.Purpose, r.Slot), Type: "Code", Purpose: r.Purpose, Slot: r.Slot,
		Subject: r.Subject, Channel: string(r.Channel), Destination: r.Destination, Hash: r.Hash,
		SentAt: ms(r.SentAt), ExpiresAt: ms(r.ExpiresAt), TTL: ttl(r.ExpiresAt.Add(24 * time.Hour))}
	p, err := s.t.put(it, cond(expression.AttributeNotExists(expression.Name("PK")).
		Or(expression.Name("SentAt").LessThanEqual(expression.Value(ms(notSentSince))))))
	if err != nil {
		return err
	}
	staged, err := stagePuts(s.t, []notify.Message{msg}, r.SentAt)
	if err != nil {
		return err
	}
	err = s.t.transact(ctx, "put code", "", append([]types.TransactWriteItem{p}, staged...)...)
	if failedAt(err, 0) {
		return onboarding.ErrCodeCooldown
	}
	return err
}

// TakeCodeAttempt counts an attempt on a live code in one conditional update:
// concurrent guesses are serialized by DynamoDB, so no more than maxAttempts
// of them ever see the code's hash.
func (s *Store) TakeCodeAttempt(ctx context.Context, orgID, purpose, slot string, maxAttempts int, now time.Time) (onboarding.CodeRecord, error) {
	live := expression.AttributeExists(expression.Name("PK")).
		And(expression.Name("Attempts").LessThan(expression.Value(maxAttempts))).
		And(expression.Name("ExpiresAt").GreaterThan(expression.Value(ms(now)))).
		And(expression.AttributeNotExists(expression.Name("UsedAt")))
	attrs, err := s.t.updateItem(ctx, "code attempt", codeKey(orgID, purpose, slot),
		expression.Add(expression.Name("Attempts"), expression.Value(1)), &live, types.ReturnValueAllNew)
	if isStale(err) {
		return onboarding.CodeRecord{}, onboarding.ErrNoLiveCode
	}
	if err != nil {
		return onboarding.CodeRecord{}, err
	}
	it, err := decode[codeItem](attrs)
	if err != nil {
		return onboarding.CodeRecord{}, err
	}
	return toCodeRecord(orgID, it), nil
}

// RedeemCode marks the code used, if it is still this code and unused
// (onboarding.ErrStale otherwise).
func (s *Store) RedeemCode(ctx context.Context, r onboarding.CodeRecord, setupTokenHash string, setupExpiresAt, now time.Time) error {
	unused := expression.AttributeNotExists(expression.Name("UsedAt")).
		And(expression.Name("Hash").Equal(expression.Value(r.Hash)))
	upd := expression.Set(expression.Name("UsedAt"), expression.Value(ms(now))).
		Set(expression.Name("SetupTokenHash"), expression.Value(setupTokenHash)).
		Set(expression.Name("SetupExpiresAt"), expression.Value(ms(setupExpiresAt))).
		Set(expression.Name("ttl"), expression.Value(ttl(setupExpiresAt.Add(24*time.Hour))))
	_, err := s.t.updateItem(ctx, "redeem code", codeKey(r.OrganizationID, r.Purpose, r.Slot), upd, &unused, "")
	return err
}

// newPassword is the person's side of a password set with a code (the setup
// and the reset alike): the new hash, the code's channel marked verified,
// and the session epoch moved on, so that every session ends.
func (s *Store) newPassword(r onboarding.CodeRecord, passwordHash string, now time.Time) (types.TransactWriteItem, error) {
	verified := "PhoneVerifiedAt"
	if r.Channel == domain.ChannelEmail {
		verified = "EmailVerifiedAt"
	}
	return s.t.update(personKey(r.OrganizationID, r.Subject),
		expression.Set(expression.Name("PasswordHash"), expression.Value(passwordHash)).
			Set(expression.Name(verified), expression.Value(ms(now))).
			Add(expression.Name("SessionEpoch"), expression.Value(1)), exists())
}

// SetPassword consumes the setup token and sets the password in one
// transaction, so a token can set a password once (onboarding.ErrStale
// otherwise). Like a reset, it moves the SessionEpoch on: a password set
// anew ends every session.
func (s *Store) SetPassword(ctx context.Context, r onboarding.CodeRecord, passwordHash string, now time.Time) error {
	codeUpd, err := s.t.update(codeKey(r.OrganizationID, r.Purpose, r.Slot),
		expression.Remove(expression.Name("SetupTokenHash")).Set(expression.Name("SetupUsedAt"), expression.Value(ms(now))),
		cond(expression.Name("SetupTokenHash").Equal(expression.Value(r.SetupTokenHash)).
			And(expression.Name("SetupExpiresAt").GreaterThan(expression.Value(ms(now))))))
	if err != nil {
		return err
	}
	personUpd, err := s.newPassword(r, passwordHash, now)
	if err != nil {
		return err
	}
	return s.t.transact(ctx, "set password", "", codeUpd, personUpd)
}

// PutRefreshToken stores a refresh token's hash.
func (s *Store) PutRefreshToken(ctx context.Context, t onboarding.RefreshToken) error {
	k := refreshKey(t.OrganizationID, t.Hash)
	return putNew(ctx, s.t, "put refresh token", k, refreshItem{key: k, Type: "RefreshToken", PersonID: t.PersonID,
		FamilyID: t.FamilyID, ExpiresAt: ms(t.ExpiresAt), Epoch: t.Epoch, Tracked: t.Tracked, TTL: ttl(t.ExpiresAt)})
}

// putNew puts an item that must not exist yet (a new session or refresh
// token, under a fresh random id). The SDK sends a write again when its
// answer is lost (a 5xx or a broken connection after DynamoDB applied it),
// and the retry then fails its condition on the item the first attempt
// wrote: that item, equal to it in every attribute, is the write done, not
// a conflict (which, unanswered, was a 500 at sign-in). Any other item in
// the way stays domain.ErrStale.
func putNew[T comparable](ctx context.Context, t *table, op string, k key, it T) error {
	err := t.putItem(ctx, op, it, notExists())
	if !isStale(err) {
		return err
	}
	var stored T
	found, rerr := t.getOr(ctx, k, &stored)
	if rerr != nil {
		return rerr
	}
	if found && stored == it {
		return nil
	}
	return err
}

// TakeRefreshToken marks a live refresh token used and returns it: a token
// works once. One conditional update on the happy path, then a consistent
// read of the family's revocation (absent for a live family): a refresh
// racing the revocation may hand out one more token, which is refused at
// its own turn. A token whose update fails is read back: used before, it
// is returned with onboarding.ErrRefreshReused; otherwise
// onboarding.ErrStale. Used tokens stay until their TTL to make reuse
// visible.
func (s *Store) TakeRefreshToken(ctx context.Context, orgID, hash string, now time.Time) (onboarding.RefreshToken, error) {
	k := refreshKey(orgID, hash)
	live := expression.AttributeExists(expression.Name("PK")).
		And(expression.Name("ExpiresAt").GreaterThan(expression.Value(ms(now)))).
		And(expression.AttributeNotExists(expression.Name("UsedAt")))
	attrs, err := s.t.updateItem(ctx, "take refresh token", k, expression.Set(expression.Name("UsedAt"), expression.Value(ms(now))),
		&live, types.ReturnValueAllNew)
	if isStale(err) {
		var it refreshItem
		found, err := s.t.getOr(ctx, k, &it)
		if err != nil {
			return onboarding.RefreshToken{}, err
		}
		if found && it.UsedAt != 0 {
			return refreshOf(orgID, hash, it), onboarding.ErrRefreshReused
		}
		return onboarding.RefreshToken{}, onboarding.ErrStale
	}
	if err != nil {
		return onboarding.RefreshToken{}, err
	}
	it, err := decode[refreshItem](attrs)
	if err != nil {
		return onboarding.RefreshToken{}, err
	}
	if it.FamilyID != "" {
		var fam refreshFamilyItem
		revoked, err := s.t.getOr(ctx, refreshFamilyKey(orgID, it.FamilyID), &fam)
		if err != nil {
			return onboarding.RefreshToken{}, err
		}
		if revoked {
			return onboarding.RefreshToken{}, onboarding.ErrStale
		}
	}
	return refreshOf(orgID, hash, it), nil
}

func refreshOf(orgID, hash string, it refreshItem) onboarding.RefreshToken {
	return onboarding.RefreshToken{OrganizationID: orgID, PersonID: it.PersonID, FamilyID: it.FamilyID, Hash: hash,
		ExpiresAt: fromMS(it.ExpiresAt), Epoch: it.Epoch, Tracked: it.Tracked}
}

// RevokeRefreshFamily writes the family's revocation, kept until no token
// of the family can be live.
func (s *Store) RevokeRefreshFamily(ctx context.Context, orgID, familyID string, until time.Time) error {
	return s.t.putItem(ctx, "revoke refresh family", refreshFamilyItem{key: refreshFamilyKey(orgID, familyID),
		Type: "RefreshFamily", RevokedUntil: ms(until), TTL: ttl(until)}, nil)
}

// RefreshToken reads a refresh token, live or not, without using it.
func (s *Store) RefreshToken(ctx context.Context, orgID, hash string) (onboarding.RefreshToken, error) {
	var it refreshItem
	if err := s.t.get(ctx, refreshKey(orgID, hash), &it); err != nil {
		return onboarding.RefreshToken{}, err
	}
	return refreshOf(orgID, hash, it), nil
}

// StartSession records a new sign-in; its item lives as long as its
// refresh token could.
func (s *Store) StartSession(ctx context.Context, r onboarding.SessionRecord) error {
	k := sessionKey(r.OrganizationID, r.PersonID, r.ID)
	return putNew(ctx, s.t, "start session", k, sessionItem{key: k, Type: "Session",
		ID: r.ID, PersonID: r.PersonID, Epoch: r.Epoch, CreatedAt: ms(r.CreatedAt), LastUsedAt: ms(r.LastUsedAt),
		ExpiresAt: ms(r.ExpiresAt), SourceIP: r.SourceIP, UserAgent: r.UserAgent, TTL: ttl(r.ExpiresAt)})
}

// TouchSession records a refresh in one conditional update: a session
// ended meanwhile (its item deleted) is not brought back
// (domain.ErrNotFound).
func (s *Store) TouchSession(ctx context.Context, r onboarding.SessionRecord) error {
	upd := expression.Set(expression.Name("LastUsedAt"), expression.Value(ms(r.LastUsedAt))).
		Set(expression.Name("ExpiresAt"), expression.Value(ms(r.ExpiresAt))).
		Set(expression.Name("ttl"), expression.Value(ttl(r.ExpiresAt)))
	// An empty string attribute is refused by DynamoDB: a client that
	// says nothing clears what the session showed.
	for name, v := range map[string]string{"SourceIP": r.SourceIP, "UserAgent": r.UserAgent} {
		if v == "" {
			upd = upd.Remove(expression.Name(name))
		} else {
			upd = upd.Set(expression.Name(name), expression.Value(v))
		}
	}
	_, err := s.t.updateItem(ctx, "touch session", sessionKey(r.OrganizationID, r.PersonID, r.ID), upd, exists(), "")
	if isStale(err) {
		return domain.ErrNotFound
	}
	return err
}

func sessionOf(orgID string) func(sessionItem) onboarding.SessionRecord {
	return func(it sessionItem) onboarding.SessionRecord {
		return onboarding.SessionRecord{OrganizationID: orgID, PersonID: it.PersonID, ID: it.ID, Epoch: it.Epoch,
			CreatedAt: fromMS(it.CreatedAt), LastUsedAt: fromMS(it.LastUsedAt), ExpiresAt: fromMS(it.ExpiresAt),
			SourceIP: it.SourceIP, UserAgent: it.UserAgent}
	}
}

// Sessions pages through one person's sessions: one key range of the
// tenant's partition, read consistently so that a session just ended is
// not listed. A cursor of another person's list is refused.
func (s *Store) Sessions(ctx context.Context, orgID, personID string, limit int, cur string) ([]onboarding.SessionRecord, string, error) {
	prefix := sessionsPrefix(personID)
	its, next, err := list[sessionItem](ctx, s.t, query{op: "query sessions", pk: orgPK(orgID), consistent: true, maxReads: 1,
		sk: beginsWith(prefix)},
		orgPK(orgID), limit, cur, func(c cursor) bool { return strings.HasPrefix(c.SK, prefix) })
	return mapAll(its, sessionOf(orgID)), next, err
}

// EndSession deletes the session and writes its family's revocation in one
// transaction: a session is listed exactly while its family is live.
func (s *Store) EndSession(ctx context.Context, orgID, personID, sessionID string, until time.Time) error {
	del := types.TransactWriteItem{Delete: &types.Delete{TableName: &s.t.name, Key: sessionKey(orgID, personID, sessionID).av()}}
	c, err := expression.NewBuilder().WithCondition(*exists()).Build()
	if err != nil {
		return err
	}
	del.Delete.ConditionExpression, del.Delete.ExpressionAttributeNames = c.Condition(), c.Names()
	revoke, err := s.t.put(refreshFamilyItem{key: refreshFamilyKey(orgID, sessionID), Type: "RefreshFamily",
		RevokedUntil: ms(until), TTL: ttl(until)}, nil)
	if err != nil {
		return err
	}
	err = s.t.transact(ctx, "end session", "", del, revoke)
	if failedAt(err, 0) {
		return domain.ErrNotFound
	}
	return err
}

// ResetPassword consumes the reset code and sets the password in one
// transaction, moving the person's SessionEpoch on: of concurrent resets
// with one code, the first to commit wins and the others find the code
// used (onboarding.ErrStale).
func (s *Store) ResetPassword(ctx context.Context, r onboarding.CodeRecord, passwordHash string, now time.Time) error {
	codeUpd, err := s.t.update(codeKey(r.OrganizationID, r.Purpose, r.Slot),
		expression.Set(expression.Name("UsedAt"), expression.Value(ms(now))),
		cond(expression.Name("Hash").Equal(expression.Value(r.Hash)).
			And(expression.AttributeNotExists(expression.Name("UsedAt"))).
			And(expression.Name("ExpiresAt").GreaterThan(expression.Value(ms(now))))))
	if err != nil {
		return err
	}
	personUpd, err := s.newPassword(r, passwordHash, now)
	if err != nil {
		return err
	}
	return s.t.transact(ctx, "reset password", "", codeUpd, personUpd)
}

// ChangePassword replaces the hash if it is still oldHash, in one
// conditional update that moves the SessionEpoch on.
func (s *Store) ChangePassword(ctx context.Context, orgID, personID, oldHash, newHash string) error {
	_, err := s.t.updateItem(ctx, "change password", personKey(orgID, personID),
		expression.Set(expression.Name("PasswordHash"), expression.Value(newHash)).
			Add(expression.Name("SessionEpoch"), expression.Value(1)),
		cond(expression.Name("PasswordHash").Equal(expression.Value(oldHash))), "")
	return err
}

func apiKeyOf(orgID string) func(apiKeyItem) domain.APIKey {
	return func(it apiKeyItem) domain.APIKey {
		return domain.APIKey{ID: it.ID, OrganizationID: orgID, Prefix: it.Prefix, SecretHash: it.SecretHash,
			CreatedAt: fromMS(it.CreatedAt), RevokedAt: fromMS(it.RevokedAt)}
	}
}

// APIKey reads one API key of the organization.
func (s *Store) APIKey(ctx context.Context, orgID, keyID string) (domain.APIKey, error) {
	var it apiKeyItem
	if err := s.t.get(ctx, apiKeyKey(orgID, keyID), &it); err != nil {
		return domain.APIKey{}, err
	}
	return apiKeyOf(orgID)(it), nil
}

// APIKeys pages through the organization's API keys.
func (s *Store) APIKeys(ctx context.Context, orgID string, limit int, cur string) ([]domain.APIKey, string, error) {
	its, next, err := list[apiKeyItem](ctx, s.t, query{op: "query api keys", pk: orgPK(orgID), consistent: true, maxReads: 1,
		sk: beginsWith("APIKEY#")},
		orgPK(orgID), limit, cur, func(c cursor) bool { return strings.HasPrefix(c.SK, "APIKEY#") })
	return mapAll(its, apiKeyOf(orgID)), next, err
}

// AddAPIKey stores a new key if the organization has fewer than maxActive
// active keys; the counter on the organization and the key change together.
func (s *Store) AddAPIKey(ctx context.Context, k domain.APIKey, maxActive int) error {
	orgUpd, err := s.t.update(orgKey(k.OrganizationID), expression.Add(expression.Name("ActiveAPIKeys"), expression.Value(1)),
		cond(expression.AttributeExists(expression.Name("PK")).And(expression.Name("ActiveAPIKeys").LessThan(expression.Value(maxActive)))))
	if err != nil {
		return err
	}
	put, err := s.t.put(apiKeyItem{key: apiKeyKey(k.OrganizationID, k.ID), Type: "APIKey", ID: k.ID, Prefix: k.Prefix,
		SecretHash: k.SecretHash, CreatedAt: ms(k.CreatedAt)}, notExists())
	if err != nil {
		return err
	}
	err = s.t.transact(ctx, "add api key", "", orgUpd, put)
	if failedAt(err, 0) {
		return onboarding.ErrKeyLimit
	}
	return err
}

// RevokeAPIKey revokes an active key; domain.ErrNotFound if there is none.
func (s *Store) RevokeAPIKey(ctx context.Context, orgID, keyID string, now time.Time) error {
	keyUpd, err := s.t.update(apiKeyKey(orgID, keyID), expression.Set(expression.Name("RevokedAt"), expression.Value(ms(now))),
		cond(expression.AttributeExists(expression.Name("PK")).And(expression.AttributeNotExists(expression.Name("RevokedAt")))))
	if err != nil {
		return err
	}
	orgUpd, err := s.t.update(orgKey(orgID), expression.Add(expression.Name("ActiveAPIKeys"), expression.Value(-1)), nil)
	if err != nil {
		return err
	}
	err = s.t.transact(ctx, "revoke api key", "", keyUpd, orgUpd)
	if failedAt(err, 0) {
		return domain.ErrNotFound
	}
	return err
}

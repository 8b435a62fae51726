package dynamostore

import (
	"context"
	"encoding/base64"
	"errors"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/kabinet/kabinet/shared/awserr"
	"github.com/kabinet/kabinet/shared/domain"
	"github.com/kabinet/kabinet/shared/notify"
	"github.com/kabinet/kabinet/shared/onboarding"
)

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
	ExpiresAt int64
	TTL       int64 `dynamodbav:"ttl"`
}

func personKey(orgID, personID string) key { return key{orgPK(orgID), "PERSON#" + personID} }
func codeKey(orgID, purpose, slot string) key {
	return key{orgPK(orgID), "CODE#" + purpose + "#" + slot}
}
func apiKeyKey(orgID, keyID string) key { return key{orgPK(orgID), "APIKEY#" + keyID} }

func loginFor(orgID, personID, login string) loginItem {
	return loginItem{
		key:    key{orgPK(orgID), "LOGIN#" + login},
		Type:   "Login",
		GSI1PK: "LOGIN#" + login, GSI1SK: orgPK(orgID) + "#PERSON#" + personID,
		PersonID: personID,
	}
}

// CreateOrganization writes the organization, its responsible person, their
// login entries and the first API key in one transaction: all or nothing.
func (s *Store) CreateOrganization(ctx context.Context, org domain.Organization, p domain.Person, k domain.APIKey) error {
	items := []any{
		orgItem{key: key{orgPK(org.ID), "ORG"}, Type: "Organization", ID: org.ID, Name: org.Name, INN: string(org.INN),
			KPP: string(org.KPP), DirectorName: org.Director.FullName, DirectorPosition: org.Director.Position,
			ResponsiblePersonID: org.ResponsiblePersonID, ActiveAPIKeys: 1, CreatedAt: ms(org.CreatedAt)},
		toPersonItem(p),
		loginFor(org.ID, p.ID, p.Phone.Login()),
		loginFor(org.ID, p.ID, p.Email.Login()),
		apiKeyItem{key: apiKeyKey(org.ID, k.ID), Type: "APIKey", ID: k.ID, Prefix: k.Prefix, SecretHash: k.SecretHash, CreatedAt: ms(k.CreatedAt)},
	}
	actions := make([]types.TransactWriteItem, 0, len(items))
	for _, it := range items {
		put, err := s.put(it, notExists())
		if err != nil {
			return err
		}
		actions = append(actions, types.TransactWriteItem{Put: put})
	}
	_, err := s.db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: actions, ClientRequestToken: aws.String(org.ID)})
	if err != nil {
		return awserr.Wrap("create organization", err)
	}
	return nil
}

func toPersonItem(p domain.Person) personItem {
	return personItem{key: personKey(p.OrganizationID, p.ID), Type: "Person", ID: p.ID, OrganizationID: p.OrganizationID,
		Role: string(p.Role), FullName: p.FullName, Phone: string(p.Phone), Email: string(p.Email),
		PasswordHash: p.PasswordHash, EmployeeID: p.EmployeeID, Login: string(p.Login), Disabled: p.Disabled,
		PhoneVerifiedAt: ms(p.PhoneVerifiedAt), EmailVerifiedAt: ms(p.EmailVerifiedAt), CreatedAt: ms(p.CreatedAt)}
}

// Organization reads one organization.
func (s *Store) Organization(ctx context.Context, orgID string) (domain.Organization, error) {
	var it orgItem
	if err := s.get(ctx, key{orgPK(orgID), "ORG"}, &it); err != nil {
		return domain.Organization{}, err
	}
	return domain.Organization{ID: it.ID, Name: it.Name, INN: domain.INN(it.INN), KPP: domain.KPP(it.KPP),
		Director:            domain.Director{FullName: it.DirectorName, Position: it.DirectorPosition},
		ResponsiblePersonID: it.ResponsiblePersonID, CreatedAt: fromMS(it.CreatedAt)}, nil
}

// Person reads one person of an organization.
func (s *Store) Person(ctx context.Context, orgID, personID string) (domain.Person, error) {
	var it personItem
	if err := s.get(ctx, personKey(orgID, personID), &it); err != nil {
		return domain.Person{}, err
	}
	return domain.Person{ID: it.ID, OrganizationID: it.OrganizationID, Role: domain.Role(it.Role), FullName: it.FullName,
		Phone: domain.Phone(it.Phone), Email: domain.Email(it.Email), PasswordHash: it.PasswordHash,
		EmployeeID: it.EmployeeID, Login: domain.Login(it.Login), Disabled: it.Disabled,
		PhoneVerifiedAt: fromMS(it.PhoneVerifiedAt), EmailVerifiedAt: fromMS(it.EmailVerifiedAt), CreatedAt: fromMS(it.CreatedAt)}, nil
}

// PeopleByLogin finds up to max people, in any organization, with this login.
func (s *Store) PeopleByLogin(ctx context.Context, login string, max int) ([]domain.Person, error) {
	kc := expression.Key("GSI1PK").Equal(expression.Value("LOGIN#" + login))
	expr, err := expression.NewBuilder().WithKeyCondition(kc).Build()
	if err != nil {
		return nil, err
	}
	res, err := s.db.Query(ctx, &dynamodb.QueryInput{
		TableName: &s.table, IndexName: aws.String("GSI1"), Limit: aws.Int32(int32(max)),
		KeyConditionExpression: expr.KeyCondition(), ExpressionAttributeNames: expr.Names(), ExpressionAttributeValues: expr.Values(),
	})
	if err != nil {
		return nil, awserr.Wrap("query login", err)
	}
	var logins []loginItem
	if err := attributevalue.UnmarshalListOfMaps(res.Items, &logins); err != nil {
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
	if err := s.get(ctx, codeKey(orgID, purpose, slot), &it); err != nil {
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
	cond := expression.AttributeNotExists(expression.Name("PK")).
		Or(expression.Name("SentAt").LessThanEqual(expression.Value(ms(notSentSince))))
	p, err := s.put(it, &cond)
	if err != nil {
		return err
	}
	staged, err := s.stagePuts([]notify.Message{msg}, r.SentAt)
	if err != nil {
		return err
	}
	_, err = s.db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{
		TransactItems: append([]types.TransactWriteItem{{Put: p}}, staged...)})
	if reasons, ok := cancelled(err); ok && len(reasons) > 0 && reasons[0] == "ConditionalCheckFailed" {
		return onboarding.ErrCodeCooldown
	}
	return awserr.Wrap("put code", err)
}

// TakeCodeAttempt counts an attempt on a live code in one conditional update:
// concurrent guesses are serialized by DynamoDB, so no more than maxAttempts
// of them ever see the code's hash.
func (s *Store) TakeCodeAttempt(ctx context.Context, orgID, purpose, slot string, maxAttempts int, now time.Time) (onboarding.CodeRecord, error) {
	cond := expression.AttributeExists(expression.Name("PK")).
		And(expression.Name("Attempts").LessThan(expression.Value(maxAttempts))).
		And(expression.Name("ExpiresAt").GreaterThan(expression.Value(ms(now)))).
		And(expression.AttributeNotExists(expression.Name("UsedAt")))
	in, err := s.update(codeKey(orgID, purpose, slot), expression.Add(expression.Name("Attempts"), expression.Value(1)), &cond)
	if err != nil {
		return onboarding.CodeRecord{}, err
	}
	in.ReturnValues = types.ReturnValueAllNew
	res, err := s.db.UpdateItem(ctx, in)
	if conditionFailed(err) {
		return onboarding.CodeRecord{}, onboarding.ErrNoLiveCode
	}
	if err != nil {
		return onboarding.CodeRecord{}, awserr.Wrap("code attempt", err)
	}
	var it codeItem
	if err := attributevalue.UnmarshalMap(res.Attributes, &it); err != nil {
		return onboarding.CodeRecord{}, err
	}
	return toCodeRecord(orgID, it), nil
}

// RedeemCode marks the code used, if it is still this code and unused.
func (s *Store) RedeemCode(ctx context.Context, r onboarding.CodeRecord, setupTokenHash string, setupExpiresAt, now time.Time) error {
	cond := expression.AttributeNotExists(expression.Name("UsedAt")).
		And(expression.Name("Hash").Equal(expression.Value(r.Hash)))
	upd := expression.Set(expression.Name("UsedAt"), expression.Value(ms(now))).
		Set(expression.Name("SetupTokenHash"), expression.Value(setupTokenHash)).
		Set(expression.Name("SetupExpiresAt"), expression.Value(ms(setupExpiresAt))).
		Set(expression.Name("ttl"), expression.Value(ttl(setupExpiresAt.Add(24*time.Hour))))
	in, err := s.update(codeKey(r.OrganizationID, r.Purpose, r.Slot), upd, &cond)
	if err != nil {
		return err
	}
	if _, err := s.db.UpdateItem(ctx, in); conditionFailed(err) {
		return onboarding.ErrStale
	} else if err != nil {
		return awserr.Wrap("redeem code", err)
	}
	return nil
}

// SetPassword consumes the setup token and sets the password in one
// transaction, so a token can set a password once.
func (s *Store) SetPassword(ctx context.Context, r onboarding.CodeRecord, passwordHash string, now time.Time) error {
	codeCond := expression.Name("SetupTokenHash").Equal(expression.Value(r.SetupTokenHash)).
		And(expression.Name("SetupExpiresAt").GreaterThan(expression.Value(ms(now))))
	codeUpd, err := s.update(codeKey(r.OrganizationID, r.Purpose, r.Slot),
		expression.Remove(expression.Name("SetupTokenHash")).Set(expression.Name("SetupUsedAt"), expression.Value(ms(now))), &codeCond)
	if err != nil {
		return err
	}
	verified := "PhoneVerifiedAt"
	if r.Channel == domain.ChannelEmail {
		verified = "EmailVerifiedAt"
	}
	personCond := expression.AttributeExists(expression.Name("PK"))
	personUpd, err := s.update(personKey(r.OrganizationID, r.Subject),
		expression.Set(expression.Name("PasswordHash"), expression.Value(passwordHash)).
			Set(expression.Name(verified), expression.Value(ms(now))), &personCond)
	if err != nil {
		return err
	}
	_, err = s.db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: []types.TransactWriteItem{
		{Update: asTransactUpdate(codeUpd)}, {Update: asTransactUpdate(personUpd)},
	}})
	if _, ok := cancelled(err); ok {
		return onboarding.ErrStale
	}
	if err != nil {
		return awserr.Wrap("set password", err)
	}
	return nil
}

func asTransactUpdate(in *dynamodb.UpdateItemInput) *types.Update {
	return &types.Update{TableName: in.TableName, Key: in.Key, UpdateExpression: in.UpdateExpression,
		ConditionExpression: in.ConditionExpression, ExpressionAttributeNames: in.ExpressionAttributeNames,
		ExpressionAttributeValues: in.ExpressionAttributeValues}
}

// PutRefreshToken stores a refresh token's hash.
func (s *Store) PutRefreshToken(ctx context.Context, t onboarding.RefreshToken) error {
	err := s.putItem(ctx, refreshItem{key: key{orgPK(t.OrganizationID), "REFRESH#" + t.Hash}, Type: "RefreshToken",
		PersonID: t.PersonID, ExpiresAt: ms(t.ExpiresAt), TTL: ttl(t.ExpiresAt)}, notExists())
	if err != nil {
		return awserr.Wrap("put refresh token", err)
	}
	return nil
}

// TakeRefreshToken deletes a live refresh token and returns it: a token works once.
func (s *Store) TakeRefreshToken(ctx context.Context, orgID, hash string, now time.Time) (onboarding.RefreshToken, error) {
	cond := expression.AttributeExists(expression.Name("PK")).And(expression.Name("ExpiresAt").GreaterThan(expression.Value(ms(now))))
	expr, err := expression.NewBuilder().WithCondition(cond).Build()
	if err != nil {
		return onboarding.RefreshToken{}, err
	}
	res, err := s.db.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: &s.table, Key: key{orgPK(orgID), "REFRESH#" + hash}.av(),
		ConditionExpression: expr.Condition(), ExpressionAttributeNames: expr.Names(), ExpressionAttributeValues: expr.Values(),
		ReturnValues: types.ReturnValueAllOld})
	if conditionFailed(err) {
		return onboarding.RefreshToken{}, onboarding.ErrStale
	}
	if err != nil {
		return onboarding.RefreshToken{}, awserr.Wrap("take refresh token", err)
	}
	var it refreshItem
	if err := attributevalue.UnmarshalMap(res.Attributes, &it); err != nil {
		return onboarding.RefreshToken{}, err
	}
	return onboarding.RefreshToken{OrganizationID: orgID, PersonID: it.PersonID, Hash: hash, ExpiresAt: fromMS(it.ExpiresAt)}, nil
}

// APIKey reads one API key of the organization.
func (s *Store) APIKey(ctx context.Context, orgID, keyID string) (domain.APIKey, error) {
	var it apiKeyItem
	if err := s.get(ctx, apiKeyKey(orgID, keyID), &it); err != nil {
		return domain.APIKey{}, err
	}
	return domain.APIKey{ID: it.ID, OrganizationID: orgID, Prefix: it.Prefix, SecretHash: it.SecretHash,
		CreatedAt: fromMS(it.CreatedAt), RevokedAt: fromMS(it.RevokedAt)}, nil
}

// APIKeys pages through the organization's API keys. The cursor carries the
// last sort key only; the partition always comes from the caller's tenant, so
// a cursor can never reach into another organization.
func (s *Store) APIKeys(ctx context.Context, orgID string, limit int, cursor string) ([]domain.APIKey, string, error) {
	kc := expression.Key("PK").Equal(expression.Value(orgPK(orgID))).And(expression.Key("SK").BeginsWith("APIKEY#"))
	expr, err := expression.NewBuilder().WithKeyCondition(kc).Build()
	if err != nil {
		return nil, "", err
	}
	in := &dynamodb.QueryInput{TableName: &s.table, Limit: aws.Int32(int32(limit)), ConsistentRead: aws.Bool(true),
		KeyConditionExpression: expr.KeyCondition(), ExpressionAttributeNames: expr.Names(), ExpressionAttributeValues: expr.Values()}
	if cursor != "" {
		sk, err := decodeCursor(cursor, "APIKEY#")
		if err != nil {
			return nil, "", err
		}
		in.ExclusiveStartKey = key{orgPK(orgID), sk}.av()
	}
	res, err := s.db.Query(ctx, in)
	if err != nil {
		return nil, "", awserr.Wrap("query api keys", err)
	}
	var items []apiKeyItem
	if err := attributevalue.UnmarshalListOfMaps(res.Items, &items); err != nil {
		return nil, "", err
	}
	keys := make([]domain.APIKey, len(items))
	for i, it := range items {
		keys[i] = domain.APIKey{ID: it.ID, OrganizationID: orgID, Prefix: it.Prefix, SecretHash: it.SecretHash,
			CreatedAt: fromMS(it.CreatedAt), RevokedAt: fromMS(it.RevokedAt)}
	}
	next := ""
	if sk, ok := res.LastEvaluatedKey["SK"].(*types.AttributeValueMemberS); ok {
		next = base64.RawURLEncoding.EncodeToString([]byte(sk.Value))
	}
	return keys, next, nil
}

func decodeCursor(cursor, prefix string) (string, error) {
	bad := &domain.Error{Code: domain.CodeValidationFailed, Detail: "the cursor is invalid",
		Fields: []domain.FieldError{{Field: "cursor", Code: "cursor_invalid", Message: "use a nextCursor value as given"}}}
	b, err := base64.RawURLEncoding.DecodeString(cursor)
	if err != nil || !strings.HasPrefix(string(b), prefix) || len(b) > 256 {
		return "", bad
	}
	return string(b), nil
}

// AddAPIKey stores a new key if the organization has fewer than maxActive
// active keys; the counter on the organization and the key change together.
func (s *Store) AddAPIKey(ctx context.Context, k domain.APIKey, maxActive int) error {
	cond := expression.AttributeExists(expression.Name("PK")).And(expression.Name("ActiveAPIKeys").LessThan(expression.Value(maxActive)))
	orgUpd, err := s.update(key{orgPK(k.OrganizationID), "ORG"}, expression.Add(expression.Name("ActiveAPIKeys"), expression.Value(1)), &cond)
	if err != nil {
		return err
	}
	put, err := s.put(apiKeyItem{key: apiKeyKey(k.OrganizationID, k.ID), Type: "APIKey", ID: k.ID, Prefix: k.Prefix,
		SecretHash: k.SecretHash, CreatedAt: ms(k.CreatedAt)}, notExists())
	if err != nil {
		return err
	}
	_, err = s.db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: []types.TransactWriteItem{
		{Update: asTransactUpdate(orgUpd)}, {Put: put},
	}})
	if reasons, ok := cancelled(err); ok && len(reasons) > 0 && reasons[0] == "ConditionalCheckFailed" {
		return onboarding.ErrKeyLimit
	}
	if err != nil {
		return awserr.Wrap("add api key", err)
	}
	return nil
}

// RevokeAPIKey revokes an active key; domain.ErrNotFound if there is none.
func (s *Store) RevokeAPIKey(ctx context.Context, orgID, keyID string, now time.Time) error {
	cond := expression.AttributeExists(expression.Name("PK")).And(expression.AttributeNotExists(expression.Name("RevokedAt")))
	keyUpd, err := s.update(apiKeyKey(orgID, keyID), expression.Set(expression.Name("RevokedAt"), expression.Value(ms(now))), &cond)
	if err != nil {
		return err
	}
	orgUpd, err := s.update(key{orgPK(orgID), "ORG"}, expression.Add(expression.Name("ActiveAPIKeys"), expression.Value(-1)), nil)
	if err != nil {
		return err
	}
	_, err = s.db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: []types.TransactWriteItem{
		{Update: asTransactUpdate(keyUpd)}, {Update: asTransactUpdate(orgUpd)},
	}})
	if _, ok := cancelled(err); ok {
		return domain.ErrNotFound
	}
	if err != nil {
		return awserr.Wrap("revoke api key", err)
	}
	return nil
}

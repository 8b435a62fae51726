package onboarding

import (
	"context"
	"time"

	"github.com/kabinet/kabinet/shared/domain"
	"github.com/kabinet/kabinet/shared/security"
)

// ConnectInput is the body of POST /v1/organizations.
type ConnectInput struct {
	Name              string  `json:"name"`
	INN               string  `json:"inn"`
	KPP               *string `json:"kpp,omitempty"`
	ResponsiblePerson struct {
		FullName string `json:"fullName"`
		Phone    string `json:"phone"`
		Email    string `json:"email"`
	} `json:"responsiblePerson"`
	Director struct {
		FullName string `json:"fullName"`
		Position string `json:"position"`
	} `json:"director"`
}

// OrganizationView is an organization as the API shows it.
type OrganizationView struct {
	ID        string    `json:"id"`
	Name      string    `json:"name"`
	INN       string    `json:"inn"`
	KPP       string    `json:"kpp,omitempty"`
	CreatedAt time.Time `json:"createdAt"`
}

// PersonView is the responsible person as the API shows them on connect.
type PersonView struct {
	ID       string `json:"id"`
	FullName string `json:"fullName"`
	Phone    string `json:"phone"`
	Email    string `json:"email"`
}

// NewAPIKeyView shows a new API key, with its secret, exactly once.
type NewAPIKeyView struct {
	ID        string    `json:"id"`
	Secret    string    `json:"secret"`
	Prefix    string    `json:"prefix"`
	CreatedAt time.Time `json:"createdAt"`
}

// Connected is the answer to a connection.
type Connected struct {
	Organization      OrganizationView `json:"organization"`
	ResponsiblePerson PersonView       `json:"responsiblePerson"`
	APIKey            NewAPIKeyView    `json:"apiKey"`
}

// Connect creates an organization, its responsible person and its first
// employer-system API key in one transaction. sourceIP comes from the API
// Gateway request context, never from a forwarding header.
//
// INN is deliberately not unique across organizations: a uniqueness rule
// would let anyone squat a company's INN before the company connects.
func (s *Connection) Connect(ctx context.Context, in ConnectInput, sourceIP string) (Connected, error) {
	now := s.Clock.Now()
	var p domain.Problems
	name, err := domain.ParseText(in.Name, 200)
	p.Check("name", err)
	inn, err := domain.ParseINN(in.INN)
	p.Check("inn", err)
	var kpp domain.KPP
	if in.KPP != nil {
		kpp, err = domain.ParseKPP(*in.KPP)
		p.Check("kpp", err)
	}
	fullName, err := domain.ParseText(in.ResponsiblePerson.FullName, 200)
	p.Check("responsiblePerson.fullName", err)
	phone, err := s.ParsePhone(in.ResponsiblePerson.Phone, s.Config.AllowForeignPhones)
	p.Check("responsiblePerson.phone", err)
	email, err := domain.ParseEmail(in.ResponsiblePerson.Email)
	p.Check("responsiblePerson.email", err)
	dirName, err := domain.ParseText(in.Director.FullName, 200)
	p.Check("director.fullName", err)
	dirPosition, err := domain.ParseText(in.Director.Position, 200)
	p.Check("director.position", err)
	if err := p.Err(); err != nil {
		return Connected{}, err
	}
	// Counted after validation, like sending a code: a refused request
	// creates nothing, so only connections that would happen are limited.
	if err := s.limitIP(ctx, "connect", sourceIP, now); err != nil {
		return Connected{}, err
	}

	org := domain.Organization{
		ID: s.IDs.New(), Name: name, INN: inn, KPP: kpp,
		Director:  domain.Director{FullName: dirName, Position: dirPosition},
		CreatedAt: now,
		// The 45-day trial starts at connection (domain.CheckService).
		Service: domain.TrialFrom(now),
	}
	person := domain.Person{
		ID: s.IDs.New(), OrganizationID: org.ID, Role: domain.RoleResponsiblePerson,
		FullName: fullName, Phone: phone, Email: email, CreatedAt: now,
	}
	org.ResponsiblePersonID = person.ID
	key, secret, err := s.newAPIKey(org.ID, now)
	if err != nil {
		return Connected{}, err
	}
	if err := s.Store.CreateOrganization(ctx, org, person, key); err != nil {
		return Connected{}, err
	}
	return Connected{
		Organization:      viewOrganization(org),
		ResponsiblePerson: PersonView{ID: person.ID, FullName: person.FullName, Phone: string(phone), Email: string(email)},
		APIKey:            NewAPIKeyView{ID: key.ID, Secret: secret, Prefix: key.Prefix, CreatedAt: now},
	}, nil
}

// newAPIKey makes a key "kab.<orgId>.<keyId>.<secret>": the ids route the
// lookup, only the secret's hash is stored.
func (s *deps) newAPIKey(orgID string, now time.Time) (domain.APIKey, string, error) {
	secret, err := security.NewSecret()
	if err != nil {
		return domain.APIKey{}, "", err
	}
	id := s.IDs.New()
	full := security.JoinToken("kab", orgID, id, secret)
	return domain.APIKey{
		ID: id, OrganizationID: orgID, Prefix: security.JoinToken("kab", orgID, id),
		SecretHash: security.HashSecret(full), CreatedAt: now,
	}, full, nil
}

func viewOrganization(o domain.Organization) OrganizationView {
	return OrganizationView{ID: o.ID, Name: o.Name, INN: string(o.INN), KPP: string(o.KPP), CreatedAt: o.CreatedAt}
}

// limitIP applies the per-source-IP hourly limit of unauthenticated routes.
func (s *deps) limitIP(ctx context.Context, scope, ip string, now time.Time) error {
	ok, wait, err := s.Limiter.Allow(ctx, "ip:"+scope+":"+ip, s.Config.RequestsPerIPPerHour, time.Hour, now)
	if err != nil {
		return err
	}
	if !ok {
		return domain.RateLimited("too many requests from this address", wait)
	}
	return nil
}

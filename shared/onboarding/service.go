package onboarding

import (
	"time"

	"github.com/kabinet/kabinet/shared/domain"
	"github.com/kabinet/kabinet/shared/otp"
	"github.com/kabinet/kabinet/shared/platform"
	"github.com/kabinet/kabinet/shared/security"
)

// Config holds the rules of the flows; Defaults gives the figures from DESIGN.md.
type Config struct {
	AllowForeignPhones bool

	CodeTTL                   time.Duration
	CodeCooldown              time.Duration
	CodeMaxAttempts           int
	CodesPerDestinationPerDay int
	CodesPerHour              int // deployment-wide
	RequestsPerIPPerHour      int
	SignInsPerIPPerHour       int // sign-in attempts from one address, across accounts
	SetupTokenTTL             time.Duration

	// CodesPerOrganizationPerDay is one organization's daily budget of
	// codes, whatever their destinations (template CodesPerOrganizationPerDay).
	CodesPerOrganizationPerDay int

	RefreshTokenTTL      time.Duration
	LoginFailuresAllowed int           // wrong passwords per account per window
	LoginFailureWindow   time.Duration // then sign-in is refused until the window ends

	MaxActiveAPIKeys int
	Argon2           security.Argon2Params
}

// Defaults are the rules of DESIGN.md section 5.
func Defaults() Config {
	return Config{
		CodeTTL:                   10 * time.Minute,
		CodeCooldown:              60 * time.Second,
		CodeMaxAttempts:           5,
		CodesPerDestinationPerDay: 10,
		CodesPerHour:              1000,
		RequestsPerIPPerHour:      30,
		SignInsPerIPPerHour:       300,
		SetupTokenTTL:             15 * time.Minute,
		RefreshTokenTTL:           30 * 24 * time.Hour,
		LoginFailuresAllowed:      5,
		LoginFailureWindow:        15 * time.Minute,
		MaxActiveAPIKeys:          2,
		Argon2:                    security.DefaultArgon2,

		CodesPerOrganizationPerDay: 1000,
	}
}

// PhoneParser parses a mobile phone number (shared/phone.ParseMobile). It is
// injected so that functions that never parse phones do not link
// libphonenumber and pay for its start-up.
type PhoneParser func(raw string, allowForeign bool) (domain.Phone, error)

// CodeRules are the one-time code rules of the flows.
func (c Config) CodeRules() otp.Rules {
	return otp.Rules{TTL: c.CodeTTL, Cooldown: c.CodeCooldown, MaxAttempts: c.CodeMaxAttempts,
		PerDestinationPerDay: c.CodesPerDestinationPerDay, PerOrganizationPerDay: c.CodesPerOrganizationPerDay,
		PerHour: c.CodesPerHour, RequestsPerIPPerHour: c.RequestsPerIPPerHour}
}

// deps are the ports of the onboarding use cases; each use case below holds
// the ones it needs, checked by its constructor, and the rest stay nil.
type deps struct {
	ParsePhone PhoneParser
	Store      Store
	Limiter    Limiter
	Codes      *otp.Codes
	Tokens     *security.AccessTokens
	Clock      platform.Clock
	IDs        platform.IDs
	Config     Config
}

// Connection connects organizations (ConnectFunction).
type Connection struct{ deps }

// NewConnection builds the connection use case; no port may be nil.
func NewConnection(store Store, limiter Limiter, parsePhone PhoneParser, clock platform.Clock, ids platform.IDs, cfg Config) (*Connection, error) {
	if err := platform.Required("onboarding.Connection", "store", store, "limiter", limiter, "parsePhone", parsePhone,
		"clock", clock, "ids", ids); err != nil {
		return nil, err
	}
	return &Connection{deps{ParsePhone: parsePhone, Store: store, Limiter: limiter, Clock: clock, IDs: ids, Config: cfg}}, nil
}

// Credentials confirm the responsible person's phone or e-mail with a
// one-time code, set the password, sign in and refresh (AuthFunction).
type Credentials struct{ deps }

// NewCredentials builds the credentials use case; no port may be nil.
// It takes no phone parser: sign-in and codes only read phones stored
// already validated (see loginKey), so AuthFunction need not link
// libphonenumber.
func NewCredentials(store Store, limiter Limiter, codes *otp.Codes, tokens *security.AccessTokens,
	clock platform.Clock, ids platform.IDs, cfg Config) (*Credentials, error) {
	if err := platform.Required("onboarding.Credentials", "store", store, "limiter", limiter, "codes", codes, "tokens", tokens,
		"clock", clock, "ids", ids); err != nil {
		return nil, err
	}
	return &Credentials{deps{Store: store, Limiter: limiter, Codes: codes, Tokens: tokens,
		Clock: clock, IDs: ids, Config: cfg}}, nil
}

// Account tells the caller who they are, changes their password, lists
// and ends their sessions, and manages the organization's API keys
// (AccountFunction).
type Account struct{ deps }

// NewAccount builds the account use case; no port may be nil. The limiter
// counts wrong current passwords with sign-in's; the tokens sign the
// session a password change hands back.
func NewAccount(store Store, limiter Limiter, tokens *security.AccessTokens, clock platform.Clock, ids platform.IDs, cfg Config) (*Account, error) {
	if err := platform.Required("onboarding.Account", "store", store, "limiter", limiter, "tokens", tokens,
		"clock", clock, "ids", ids); err != nil {
		return nil, err
	}
	return &Account{deps{Store: store, Limiter: limiter, Tokens: tokens, Clock: clock, IDs: ids, Config: cfg}}, nil
}

// APIKeys checks the employer system's API keys (the functions it calls).
type APIKeys struct{ deps }

// NewAPIKeys builds the API key check; the store may not be nil.
func NewAPIKeys(store Store) (*APIKeys, error) {
	if err := platform.Required("onboarding.APIKeys", "store", store); err != nil {
		return nil, err
	}
	return &APIKeys{deps{Store: store}}, nil
}

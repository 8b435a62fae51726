package onboarding

import (
	"github.com/kabinet/kabinet/shared/domain"
	"time"

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
	}
}

// PhoneParser parses a mobile phone number (shared/phone.ParseMobile). It is
// injected so that functions that never parse phones do not link
// libphonenumber and pay for its start-up.
type PhoneParser func(raw string, allowForeign bool) (domain.Phone, error)

// Service runs the onboarding use cases.
type Service struct {
	ParsePhone    PhoneParser // needed by Connect, SendCode and SignIn
	Store         Store
	Limiter       Limiter
	Notifications Notifications
	Codes         *security.CodeHasher
	Tokens        *security.AccessTokens
	Clock         platform.Clock
	IDs           platform.IDs
	Config        Config
}

package cabinets

import (
	"context"
	"errors"
	"time"

	"github.com/kabinet/kabinet/shared/domain"
	"github.com/kabinet/kabinet/shared/notify"
	"github.com/kabinet/kabinet/shared/otp"
)

// ErrStale means a conditional write lost to a concurrent one (the cabinet's
// version moved, a login was taken, a code was used).
var ErrStale = domain.ErrStale

// ErrLoginTaken means the activation's login is someone else's in the organization.
var ErrLoginTaken = errors.New("login taken")

// Activation is what one activation writes, all or nothing.
type Activation struct {
	Cabinet Cabinet // the new state; saved if its stored version is still PrevVersion
	// PrevVersion and PrevState are the version and state the cabinet had
	// when read (the state decides which count the write moves).
	PrevVersion int64
	PrevState   State
	Person      domain.Person
	Code        otp.Record // the code, marked used by the same write
}

// CabinetWrite is one write of SaveCabinets: Cabinet, if the stored
// version and state are still PrevVersion and PrevState, with Msgs staged
// in the same write.
type CabinetWrite struct {
	Cabinet     Cabinet
	PrevVersion int64
	PrevState   State
	Msgs        []notify.Message
}

// Store is the persistence the cabinet use cases need.
type Store interface {
	Organization(ctx context.Context, orgID string) (domain.Organization, error)
	Settings(ctx context.Context, orgID string) (Settings, error) // defaults when never saved
	// NotificationPreferences: the organization's quiet hours hold invitations.
	NotificationPreferences(ctx context.Context, orgID string) (notify.Preferences, error)
	// SaveSettings stores s if the stored version is still prevVersion.
	SaveSettings(ctx context.Context, s Settings, prevVersion int64) error

	Cabinet(ctx context.Context, orgID, employeeID string) (Cabinet, error)
	Cabinets(ctx context.Context, orgID string, employeeIDs []string) (map[string]Cabinet, error)
	// SaveCabinet stores c if the stored version and state are still
	// prevVersion and prevState, as read (0 and "": none stored);
	// ErrStale otherwise. The messages (the invitation) are staged in the
	// outbox in the same write, so none is lost, and the counts per state
	// move with it, so they stay exact.
	SaveCabinet(ctx context.Context, c Cabinet, prevVersion int64, prevState State, msgs ...notify.Message) error
	// SaveCabinets does what SaveCabinet does for each write, in far fewer
	// round trips (writes that stage messages share transactions), and
	// says for each write: nil, ErrStale, or the failure. A lost race
	// fails only its own cabinet.
	SaveCabinets(ctx context.Context, ws []CabinetWrite) []error
	// CanHaveCabinet reads, of the named employees, whether each is
	// published and able to have a cabinet (the employee records decide).
	CanHaveCabinet(ctx context.Context, orgID string, employeeIDs []string) (map[string]bool, error)
	// PutNewCabinets writes, in batches, the records of employees published
	// for the first time, each only if none is stored: a retry of a
	// publication whose first attempt wrote some leaves them (and their
	// counts) as they are. It returns the employees whose record existed
	// already (the caller brings them up to date as known ones) and those
	// whose record is still unwritten at deadline.
	PutNewCabinets(ctx context.Context, cs []Cabinet, deadline time.Time) (existed, unwritten []string, err error)
	// ListCabinets pages through cabinets in name order, of one state when
	// state is not empty, whose name starts with namePrefix.
	ListCabinets(ctx context.Context, orgID string, state State, namePrefix string, limit int, cursor string) ([]Cabinet, string, error)
	// CabinetCounts reads the number of cabinets in each state (every
	// state present, zero included), at a cost that does not grow with the
	// organization.
	CabinetCounts(ctx context.Context, orgID string) (map[State]int, error)
	// DueCabinets reads cabinets whose DueAt is not after now, oldest first,
	// across organizations, from a sparse index: at most limit per index
	// shard (the store has a few).
	DueCabinets(ctx context.Context, now time.Time, limit int) ([]Cabinet, error)

	// Activate writes an activation in one transaction: the cabinet active
	// and its invitation used, the code used, the person with their
	// password, their sign-in entries and their login reserved. ErrStale if
	// the cabinet or the code changed, ErrLoginTaken if the login is taken.
	Activate(ctx context.Context, a Activation) error
	// SetPersonDisabled disables or re-enables a person's sign-in.
	SetPersonDisabled(ctx context.Context, orgID, personID string, disabled bool) error
}

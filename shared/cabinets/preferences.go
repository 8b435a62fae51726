package cabinets

import (
	"context"
	"errors"

	"github.com/kabinet/kabinet/shared/domain"
)

// ChannelPreference is the body of PUT /v1/me/notification-preferences.
type ChannelPreference struct {
	Channel string `json:"channel"`
}

// SetPreferredChannel records how an employee wants notices: by SMS or by
// e-mail (when they have one). Codes and invitations are not affected.
func (s *Preferences) SetPreferredChannel(ctx context.Context, orgID, employeeID string, in ChannelPreference) (View, error) {
	ch, err := domain.ParseChannel(in.Channel)
	if err != nil {
		var p domain.Problems
		p.Check("channel", err)
		return View{}, p.Err()
	}
	for attempt := 0; attempt < 4; attempt++ {
		c, err := s.Store.Cabinet(ctx, orgID, employeeID)
		if err != nil {
			return View{}, err
		}
		if c.State != Active {
			return View{}, errTransition(c.State, "given notification preferences")
		}
		if ch == domain.ChannelEmail && c.Email == "" {
			return View{}, domain.NewError(domain.CodeValidationFailed, "there is no e-mail to send notices to")
		}
		next := c
		next.PreferredChannel, next.UpdatedAt = ch, s.Clock.Now()
		err = s.Store.SaveCabinet(ctx, next, c.Version, c.State)
		if err == nil {
			next.Version++
			return ViewOf(next), nil
		}
		if !errors.Is(err, ErrStale) {
			return View{}, err
		}
	}
	return View{}, domain.NewError(domain.CodeConflict, "the cabinet changed meanwhile; try again")
}

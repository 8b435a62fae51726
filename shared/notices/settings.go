package notices

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"reflect"
	"sort"

	"github.com/kabinet/kabinet/shared/domain"
	"github.com/kabinet/kabinet/shared/notify"
)

// Settings are the organization's notification settings as the API shows
// them: every notice kind on or off, and the quiet hours (null: none).
type Settings = notify.Preferences

// SettingsInput changes some settings: absent fields keep their value;
// quietHours null removes the quiet hours; notices switches the kinds it
// names and keeps the others.
type SettingsInput struct {
	Notices    NoticeSwitches `json:"notices"`
	QuietHours OptionalQuiet  `json:"quietHours"`
}

// NoticeSwitches switches the notice kinds it names on (true) or off (false).
type NoticeSwitches map[string]bool

// UnmarshalJSON reads an object of booleans, or null (no change). A null
// switch is refused as a wrong JSON type: encoding/json would read it as
// false and switch the notice off.
func (n *NoticeSwitches) UnmarshalJSON(b []byte) error {
	var raw map[string]*bool
	if err := json.Unmarshal(b, &raw); err != nil {
		return err
	}
	if raw == nil {
		*n = nil
		return nil
	}
	out := make(NoticeSwitches, len(raw))
	for k, on := range raw {
		if on == nil {
			return &json.UnmarshalTypeError{Value: "null", Type: reflect.TypeFor[bool](), Field: k}
		}
		out[k] = *on
	}
	*n = out
	return nil
}

// OptionalQuiet tells an absent quietHours (Set false) from null (Set,
// Value nil) and from a window.
type OptionalQuiet struct {
	Set   bool
	Value *notify.QuietHours
}

// UnmarshalJSON reads null or a window, strictly (no unknown fields).
func (o *OptionalQuiet) UnmarshalJSON(b []byte) error {
	o.Set = true
	if string(bytes.TrimSpace(b)) == "null" {
		o.Value = nil
		return nil
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	var q notify.QuietHours
	if err := dec.Decode(&q); err != nil {
		return err
	}
	o.Value = &q
	return nil
}

// SettingsOf reads the organization's notification settings, every notice
// kind listed.
func (s *Service) SettingsOf(ctx context.Context, orgID string) (Settings, error) {
	p, err := s.Store.NotificationPreferences(ctx, orgID)
	if err != nil {
		return Settings{}, err
	}
	return complete(p), nil
}

// complete lists every notice kind, on unless switched off.
func complete(p notify.Preferences) notify.Preferences {
	notices := make(map[notify.Kind]bool, len(noticeKinds))
	for _, k := range noticeKinds {
		notices[k] = p.NoticeOn(k)
	}
	p.Notices = notices
	return p
}

// UpdateSettings changes the settings named in in. A concurrent change
// between the read and the write answers 409 conflict.
func (s *Service) UpdateSettings(ctx context.Context, orgID string, in SettingsInput) (Settings, error) {
	var p domain.Problems
	kinds := make([]string, 0, len(in.Notices))
	for k := range in.Notices {
		kinds = append(kinds, k)
	}
	sort.Strings(kinds)
	for _, k := range kinds {
		if !isNoticeKind(notify.Kind(k)) {
			p.Add("notices."+k, "unknown_kind", "notices are payslip_available and vacation_schedule")
		}
	}
	if in.QuietHours.Set && in.QuietHours.Value != nil {
		in.QuietHours.Value.Check("quietHours", &p)
	}
	if err := p.Err(); err != nil {
		return Settings{}, err
	}
	cur, err := s.Store.NotificationPreferences(ctx, orgID)
	if err != nil {
		return Settings{}, err
	}
	next := complete(cur)
	for k, on := range in.Notices {
		next.Notices[notify.Kind(k)] = on
	}
	if in.QuietHours.Set {
		next.QuietHours = in.QuietHours.Value
	}
	next.OrganizationID, next.UpdatedAt, next.Version = orgID, s.Clock.Now(), cur.Version+1
	if err := s.Store.SaveNotificationPreferences(ctx, next, cur.Version); err != nil {
		if errors.Is(err, ErrStale) {
			return Settings{}, conflict("the notification settings")
		}
		return Settings{}, err
	}
	return next, nil
}

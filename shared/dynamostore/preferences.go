package dynamostore

import (
	"context"
	"encoding/json"

	"github.com/kabinet/kabinet/shared/notify"
)

// The organization's notification settings: read by every repository whose
// port sends notifications (onboarding, cabinets, requests, notices), written
// by the notices repository.

type preferencesItem struct {
	key
	Type      string
	Notices   map[string]bool
	Quiet     string `dynamodbav:",omitempty"` // JSON of the quiet hours; absent: none
	Version   int64
	UpdatedAt int64
}

// preferences reads the organization's notification settings, or the defaults.
func preferences(ctx context.Context, t *table, orgID string) (notify.Preferences, error) {
	var it preferencesItem
	found, err := t.getOr(ctx, preferencesKey(orgID), &it)
	if err != nil {
		return notify.Preferences{}, err
	}
	if !found {
		return notify.DefaultPreferences(orgID), nil
	}
	return fromPreferencesItem(orgID, it)
}

func fromPreferencesItem(orgID string, it preferencesItem) (notify.Preferences, error) {
	p := notify.Preferences{OrganizationID: orgID, Notices: map[notify.Kind]bool{}, Version: it.Version, UpdatedAt: fromMS(it.UpdatedAt)}
	for k, v := range it.Notices {
		p.Notices[notify.Kind(k)] = v
	}
	if it.Quiet != "" {
		var q notify.QuietHours
		if err := json.Unmarshal([]byte(it.Quiet), &q); err != nil {
			return notify.Preferences{}, err
		}
		p.QuietHours = &q
	}
	return p, nil
}

// savePreferences stores p if the stored version is still prevVersion;
// domain.ErrStale otherwise.
func savePreferences(ctx context.Context, t *table, p notify.Preferences, prevVersion int64) error {
	it := preferencesItem{key: preferencesKey(p.OrganizationID), Type: "NotificationSettings", Notices: map[string]bool{},
		Version: prevVersion + 1, UpdatedAt: ms(p.UpdatedAt)}
	for k, v := range p.Notices {
		it.Notices[string(k)] = v
	}
	if p.QuietHours != nil {
		b, _ := json.Marshal(p.QuietHours)
		it.Quiet = string(b)
	}
	return t.putItem(ctx, "save notification settings", it, versionIs(prevVersion))
}

// NotificationPreferences reads the organization's notification settings,
// or the defaults.
func (s *Store) NotificationPreferences(ctx context.Context, orgID string) (notify.Preferences, error) {
	return preferences(ctx, s.t, orgID)
}

// SaveNotificationPreferences stores p if the stored version is still
// prevVersion; domain.ErrStale otherwise.
func (s *Store) SaveNotificationPreferences(ctx context.Context, p notify.Preferences, prevVersion int64) error {
	return savePreferences(ctx, s.t, p, prevVersion)
}

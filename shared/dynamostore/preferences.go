package dynamostore

import (
	"context"
	"encoding/json"
	"errors"

	"github.com/kabinet/kabinet/shared/awserr"
	"github.com/kabinet/kabinet/shared/domain"
	"github.com/kabinet/kabinet/shared/notify"
)

type preferencesItem struct {
	key
	Type      string
	Notices   map[string]bool
	Quiet     string `dynamodbav:",omitempty"` // JSON of the quiet hours; absent: none
	Version   int64
	UpdatedAt int64
}

func preferencesKey(orgID string) key { return key{orgPK(orgID), "SETTINGS#NOTIFICATIONS"} }

// NotificationPreferences reads the organization's notification settings,
// or the defaults.
func (s *Store) NotificationPreferences(ctx context.Context, orgID string) (notify.Preferences, error) {
	var it preferencesItem
	err := s.get(ctx, preferencesKey(orgID), &it)
	if errors.Is(err, domain.ErrNotFound) {
		return notify.DefaultPreferences(orgID), nil
	}
	if err != nil {
		return notify.Preferences{}, err
	}
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

// SaveNotificationPreferences stores p if the stored version is still prevVersion.
func (s *Store) SaveNotificationPreferences(ctx context.Context, p notify.Preferences, prevVersion int64) error {
	it := preferencesItem{key: preferencesKey(p.OrganizationID), Type: "NotificationSettings", Notices: map[string]bool{},
		Version: prevVersion + 1, UpdatedAt: ms(p.UpdatedAt)}
	for k, v := range p.Notices {
		it.Notices[string(k)] = v
	}
	if p.QuietHours != nil {
		b, _ := json.Marshal(p.QuietHours)
		it.Quiet = string(b)
	}
	err := s.putItem(ctx, it, versionIs(prevVersion))
	if conditionFailed(err) {
		return ErrVersion
	}
	return awserr.Wrap("save notification settings", err)
}

// ErrVersion means the record changed since it was read.
var ErrVersion = errors.New("changed meanwhile")

// NotificationPreferences reads the organization's notification settings.
func (s *Cabinets) NotificationPreferences(ctx context.Context, orgID string) (notify.Preferences, error) {
	return s.store.NotificationPreferences(ctx, orgID)
}

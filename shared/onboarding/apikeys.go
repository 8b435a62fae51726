package onboarding

import (
	"context"
	"errors"
	"time"

	"github.com/kabinet/kabinet/shared/domain"
	"github.com/kabinet/kabinet/shared/security"
)

// APIKeyView is a key as listed: never its secret.
type APIKeyView struct {
	ID        string     `json:"id"`
	Prefix    string     `json:"prefix"`
	CreatedAt time.Time  `json:"createdAt"`
	RevokedAt *time.Time `json:"revokedAt,omitempty"`
	Active    bool       `json:"active"`
}

// APIKeyPage is one page of keys.
type APIKeyPage struct {
	Items      []APIKeyView `json:"items"`
	NextCursor string       `json:"nextCursor,omitempty"`
}

// ListAPIKeys pages through the organization's keys, oldest first.
func (s *Account) ListAPIKeys(ctx context.Context, orgID string, limit int, cursor string) (APIKeyPage, error) {
	keys, next, err := s.Store.APIKeys(ctx, orgID, limit, cursor)
	if err != nil {
		return APIKeyPage{}, err
	}
	page := APIKeyPage{Items: make([]APIKeyView, 0, len(keys)), NextCursor: next}
	for _, k := range keys {
		v := APIKeyView{ID: k.ID, Prefix: k.Prefix, CreatedAt: k.CreatedAt, Active: k.Active()}
		if !k.Active() {
			t := k.RevokedAt
			v.RevokedAt = &t
		}
		page.Items = append(page.Items, v)
	}
	return page, nil
}

// CreateAPIKey adds a key for rotation: at most MaxActiveAPIKeys are active,
// so the employer system can switch to the new key before the old is revoked.
func (s *Account) CreateAPIKey(ctx context.Context, orgID string) (NewAPIKeyView, error) {
	now := s.Clock.Now()
	key, secret, err := s.newAPIKey(orgID, now)
	if err != nil {
		return NewAPIKeyView{}, err
	}
	if err := s.Store.AddAPIKey(ctx, key, s.Config.MaxActiveAPIKeys); err != nil {
		if errors.Is(err, ErrKeyLimit) {
			return NewAPIKeyView{}, domain.NewError(domain.CodeAPIKeyLimit, "the organization already has the most active API keys allowed; revoke one first")
		}
		return NewAPIKeyView{}, err
	}
	return NewAPIKeyView{ID: key.ID, Secret: secret, Prefix: key.Prefix, CreatedAt: now}, nil
}

// RevokeAPIKey revokes an active key of the organization. An unknown key,
// another organization's key and an already revoked key all answer not found.
func (s *Account) RevokeAPIKey(ctx context.Context, orgID, keyID string) error {
	if _, err := parseID(keyID); err != nil {
		return domain.ErrNotFound
	}
	return s.Store.RevokeAPIKey(ctx, orgID, keyID, s.Clock.Now())
}

// VerifyAPIKey checks an employer-system key "kab.<org>.<key>.<secret>" and
// returns its organization. A malformed, unknown, revoked or wrong key all
// answer alike.
func (s *APIKeys) VerifyAPIKey(ctx context.Context, key string) (orgID, keyID string, err error) {
	bad := domain.NewError(domain.CodeUnauthorized, "the API key is invalid or revoked")
	parts, ok := security.SplitToken(key, 4)
	if !ok || parts[0] != "kab" {
		return "", "", bad
	}
	if _, err := parseID(parts[1]); err != nil {
		return "", "", bad
	}
	if _, err := parseID(parts[2]); err != nil {
		return "", "", bad
	}
	k, err := s.Store.APIKey(ctx, parts[1], parts[2])
	if errors.Is(err, domain.ErrNotFound) {
		return "", "", bad
	}
	if err != nil {
		return "", "", err
	}
	if !k.Active() || !security.SameHash(k.SecretHash, security.HashSecret(key)) {
		return "", "", bad
	}
	return parts[1], parts[2], nil
}

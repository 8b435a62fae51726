package dynamostore

import (
	"context"

	"github.com/kabinet/kabinet/shared/cabinets"
	"github.com/kabinet/kabinet/shared/domain"
)

// The organization's КЭДО settings, one small item beside the other
// settings. The cabinet repository keeps them (the responsible person sets
// them in CabinetsFunction); the signature use cases read them through
// ports of their own, which the same methods satisfy.

var _ cabinets.EDOStore = (*Cabinets)(nil)

type edoSettingsItem struct {
	key
	Type               string
	HREdo              bool
	EmployeeSignatures bool
	Version            int64
	UpdatedAt          int64
}

// EDOSettings reads the organization's КЭДО settings, or the defaults
// (everything off).
func (s *Cabinets) EDOSettings(ctx context.Context, orgID string) (domain.EDOSettings, error) {
	var it edoSettingsItem
	found, err := s.t.getOr(ctx, edoSettingsKey(orgID), &it)
	if err != nil || !found {
		return domain.DefaultEDOSettings(orgID), err
	}
	return domain.EDOSettings{OrganizationID: orgID, HREdo: it.HREdo, EmployeeSignatures: it.EmployeeSignatures,
		Version: it.Version, UpdatedAt: fromMS(it.UpdatedAt)}, nil
}

// SaveEDOSettings stores st if the stored version is still prevVersion;
// domain.ErrStale otherwise.
func (s *Cabinets) SaveEDOSettings(ctx context.Context, st domain.EDOSettings, prevVersion int64) error {
	it := edoSettingsItem{key: edoSettingsKey(st.OrganizationID), Type: "EDOSettings", HREdo: st.HREdo,
		EmployeeSignatures: st.EmployeeSignatures, Version: prevVersion + 1, UpdatedAt: ms(st.UpdatedAt)}
	return s.t.putItem(ctx, "save edo settings", it, versionIs(prevVersion))
}

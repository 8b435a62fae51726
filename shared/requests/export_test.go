package requests

// NewFakeStore exposes the in-memory fake of fake_test.go to the external
// test that runs the store contract against it (fake_contract_test.go),
// with the ids of the messages its successful saves staged.
func NewFakeStore() (Store, func(orgID string) []string) {
	f := newFakeStore()
	return f, func(orgID string) []string {
		var ids []string
		for _, m := range f.staged() {
			if m.OrganizationID == orgID {
				ids = append(ids, m.ID)
			}
		}
		return ids
	}
}

package requests

import (
	"github.com/kabinet/kabinet/shared/domain"
	"github.com/kabinet/kabinet/shared/notify"
)

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

// FakeWorld is what the contract seeds in the fake: what publication,
// cabinets, onboarding and notices would have written.
type FakeWorld struct {
	Org         domain.Organization
	Responsible domain.Person
	Employees   []Employee
	Departments []Department
	Director    string
	Contacts    map[string]Contact
	Templates   map[notify.Kind]notify.Template
	Prefs       notify.Preferences
}

// SeedFake stores w in a store made by NewFakeStore.
func SeedFake(s Store, w FakeWorld) {
	f := s.(*fakeStore)
	org := w.Org.ID
	f.putOrg(w.Org)
	f.putPerson(w.Responsible)
	if c, ok := personContact(w.Responsible); ok {
		f.putContact(org, "", c)
	}
	for _, e := range w.Employees {
		f.putEmployee(org, e)
	}
	for _, d := range w.Departments {
		f.putDept(org, d)
	}
	f.setDirector(org, w.Director)
	for id, c := range w.Contacts {
		f.putContact(org, id, c)
	}
	for kind, t := range w.Templates {
		f.putTemplate(org, kind, t)
	}
	f.putPrefs(w.Prefs)
}

// personContact is how the repository reaches the responsible person: by
// phone, else by e-mail.
func personContact(p domain.Person) (Contact, bool) {
	switch {
	case p.Phone != "":
		return Contact{Channel: domain.ChannelSMS, To: string(p.Phone)}, true
	case p.Email != "":
		return Contact{Channel: domain.ChannelEmail, To: string(p.Email)}, true
	}
	return Contact{}, false
}

package dynamostore_test

import (
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/kabinet/kabinet/infra/testenv"
	"github.com/kabinet/kabinet/shared/cabinets"
	"github.com/kabinet/kabinet/shared/domain"
	"github.com/kabinet/kabinet/shared/dynamostore"
	"github.com/kabinet/kabinet/shared/notify/notifytest"
	"github.com/kabinet/kabinet/shared/publication"
	"github.com/kabinet/kabinet/shared/requests/requeststest"
)

// The request store in DynamoDB keeps the contract of the in-memory fake
// the request tests run on.
func TestRequestStoreContract(t *testing.T) {
	requeststest.TestStore(t, func(t *testing.T) requeststest.Env {
		env := testenv.Get(t)
		db := dynamodb.NewFromConfig(env.AWS)
		outbox := dynamostore.NewOutbox(db, env.Table())
		return requeststest.Env{Store: dynamostore.NewRequests(db, env.Table()), Staged: func(t *testing.T, orgID string) []string {
			// The contract's requests are made in the distant past: by
			// a day later, whatever they staged is due.
			return notifytest.DueOf(t, outbox, orgID, time.Date(2100, 1, 1, 0, 0, 0, 0, time.UTC))
		}, Seed: func(t *testing.T, w requeststest.World) { seedRequestWorld(t, db, env.Table(), w) }}
	})
}

// seedRequestWorld writes w as onboarding, publication, cabinets and
// notices write it.
func seedRequestWorld(t *testing.T, db *dynamodb.Client, table string, w requeststest.World) {
	t.Helper()
	org, at := w.Org.ID, w.Org.CreatedAt
	store := dynamostore.New(db, table)
	key := domain.APIKey{ID: ids.New(), OrganizationID: org, Prefix: "kb_test", SecretHash: "test", CreatedAt: at}
	if err := store.CreateOrganization(ctx, w.Org, w.Responsible, key); err != nil {
		t.Fatal(err)
	}
	var writes publication.Writes
	var unpublish []publication.RowRef
	for _, d := range w.Departments {
		writes.Departments = append(writes.Departments, publication.Department{ExternalID: d.ID, Name: "Отдел " + d.ID,
			ParentID: d.ParentID, HeadID: d.HeadID})
	}
	for _, e := range w.Employees {
		names := append(strings.Fields(e.FullName), "", "")
		writes.Employees = append(writes.Employees, publication.Employee{ExternalID: e.ID, LastName: names[0],
			FirstName: names[1], MiddleName: names[2], DepartmentID: e.DepartmentID})
		if !e.Published {
			unpublish = append(unpublish, publication.RowRef{Kind: publication.KindEmployee, ExternalID: e.ID})
		}
	}
	if w.Director != "" {
		writes.Director = &publication.DirectorRow{EmployeeID: w.Director, Version: 1}
	}
	pub := dynamostore.NewPublication(db, table)
	if failed, err := pub.Write(ctx, org, writes, at, time.Now().Add(20*time.Second)); err != nil || len(failed) != 0 {
		t.Fatalf("publish: %v, unwritten %v", err, failed)
	}
	if len(unpublish) > 0 {
		if _, err := pub.Unpublish(ctx, org, unpublish, at); err != nil {
			t.Fatal(err)
		}
	}
	cabs := dynamostore.NewCabinets(db, table)
	for id, c := range w.Contacts {
		cab := cabinets.Cabinet{OrganizationID: org, EmployeeID: id, FullName: id, Phone: "+79160000001",
			Email: "nobody@romashka.ru", Eligible: true, State: cabinets.Active, PreferredChannel: c.Channel, UpdatedAt: at}
		if c.Channel == domain.ChannelEmail {
			cab.Email = domain.Email(c.To)
		} else {
			cab.Phone = domain.Phone(c.To)
		}
		if err := cabs.SaveCabinet(ctx, cab, 0, ""); err != nil {
			t.Fatal(err)
		}
	}
	notices := dynamostore.NewNotices(db, table)
	for kind, tpl := range w.Templates {
		if err := notices.SaveTemplate(ctx, org, kind, tpl, at); err != nil {
			t.Fatal(err)
		}
	}
	if err := notices.SaveNotificationPreferences(ctx, w.Prefs, 0); err != nil {
		t.Fatal(err)
	}
}

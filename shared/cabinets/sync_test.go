package cabinets_test

import (
	"context"
	"testing"
	"time"

	"github.com/kabinet/kabinet/shared/cabinets"
	"github.com/kabinet/kabinet/shared/cabinets/cabinetstest"
	"github.com/kabinet/kabinet/shared/publication"
)

// A publication retried after its first attempt wrote an employee's first
// cabinet record but not the employee's row sends the employee as new
// again: the record stored is brought up to date (the new name), keeps
// what happened to it meanwhile (created), and is counted once.
func TestRetriedFirstPublicationUpdatesTheStoredRecord(t *testing.T) {
	ctx := context.Background()
	store := cabinetstest.New(nil, nil)
	sync, err := cabinets.NewPublicationSync(store)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2027, 2, 1, 9, 0, 0, 0, time.UTC)
	e := publication.Employee{ExternalID: "E1", LastName: "Иванова", FirstName: "Анна", Phone: "+79160000001", Email: "a@x.ru", Version: 1}
	if failed, err := sync.EmployeesChanged(ctx, "org-1", []publication.EmployeeChange{{Employee: e}}, now, now.Add(time.Minute)); err != nil || len(failed) > 0 {
		t.Fatalf("first: %v %v", failed, err)
	}
	c, err := store.Cabinet(ctx, "org-1", "E1")
	if err != nil || c.State != cabinets.NotCreated {
		t.Fatalf("first record %+v %v", c, err)
	}
	next := c
	next.State = cabinets.Created
	if err := store.SaveCabinet(ctx, next, c.Version, c.State); err != nil {
		t.Fatal(err)
	}
	e.LastName, e.Version = "Петрова", 2
	if failed, err := sync.EmployeesChanged(ctx, "org-1", []publication.EmployeeChange{{Employee: e}}, now.Add(time.Hour), now.Add(time.Hour+time.Minute)); err != nil || len(failed) > 0 {
		t.Fatalf("retry: %v %v", failed, err)
	}
	got, err := store.Cabinet(ctx, "org-1", "E1")
	if err != nil || got.State != cabinets.Created || got.Version != 3 || got.FullName != "Петрова Анна" {
		t.Fatalf("after the retry %+v %v; want created, version 3, the new name", got, err)
	}
	counts, err := store.CabinetCounts(ctx, "org-1")
	if err != nil || counts[cabinets.Created] != 1 || counts[cabinets.NotCreated] != 0 {
		t.Fatalf("counts %v %v", counts, err)
	}
}

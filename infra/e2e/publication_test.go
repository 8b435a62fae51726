package e2e

import (
	"testing"
)

func codesOf(list any) map[string][]string {
	out := map[string][]string{}
	for _, it := range list.([]any) {
		m := it.(obj)
		id := m["externalId"].(string)
		var problems []any
		if p, ok := m["problems"]; ok {
			problems = p.([]any)
		} else if p, ok := m["cabinetProblems"]; ok {
			problems = p.([]any)
		}
		for _, p := range problems {
			out[id] = append(out[id], p.(obj)["code"].(string))
		}
	}
	return out
}

// The publication flow as the accounting product would drive it, against
// the local runner: a bad phone and a missing e-mail are named, listed in
// red, fixed; a snapshot drops one employee, publishing them restores them.
func TestPublicationAsTheAccountingProductWould(t *testing.T) {
	c := startRunner(t)
	status, _, org := c.do("POST", "/v1/organizations", "", connectBody("+7 916 700-90-90"))
	if status != 201 {
		t.Fatalf("connect: %d %v", status, org)
	}
	key := org["apiKey"].(obj)["secret"].(string)

	dept := []obj{{"externalId": "D1", "name": "Бухгалтерия", "headId": "E1"}}
	e1 := obj{"externalId": "E1", "lastName": "Иванов", "firstName": "Иван", "departmentId": "D1", "phone": "8 (985) 309-30-91", "email": "ivan@romashka.ru", "version": 1}
	e2 := obj{"externalId": "E2", "lastName": "Петров", "firstName": "Пётр", "departmentId": "D1", "phone": "+7 495 123-45-67", "email": "petr@romashka.ru", "version": 1}
	e3 := obj{"externalId": "E3", "lastName": "Сидорова", "firstName": "Анна", "departmentId": "D1", "phone": "985 309 30 92", "version": 1}
	status, _, res := c.doWith("POST", "/v1/publication/delta", key, "first", obj{"departments": dept, "employees": []obj{e1, e2, e3}, "director": obj{"employeeId": "E1"}})
	if status != 200 {
		t.Fatalf("publish: %d %v", status, res)
	}
	named := codesOf(res["cannotGetCabinet"])
	if len(named) != 2 || named["E2"][0] != "phone_not_mobile" || named["E3"][0] != "email_missing" {
		t.Fatalf("the response must name E2's phone and E3's e-mail: %v", named)
	}
	status, _, red := c.do("GET", "/v1/publication/cannot-get-cabinet", key, nil)
	if listed := codesOf(red["items"]); status != 200 || len(listed) != 2 || listed["E2"][0] != "phone_not_mobile" || listed["E3"][0] != "email_missing" {
		t.Fatalf("red list: %d %v", status, red)
	}

	// Fix both and re-publish: the red list empties.
	e2["phone"], e2["version"] = "+7 985 309-30-93", 2
	e3["email"], e3["version"] = "anna@romashka.ru", 2
	if status, _, res := c.doWith("POST", "/v1/publication/delta", key, "fix", obj{"employees": []obj{e2, e3}}); status != 200 || len(res["cannotGetCabinet"].([]any)) != 0 {
		t.Fatalf("fix: %d %v", status, res)
	}
	if _, _, red := c.do("GET", "/v1/publication/cannot-get-cabinet", key, nil); len(red["items"].([]any)) != 0 {
		t.Fatalf("red list after the fix: %v", red)
	}

	// A snapshot without E3 unpublishes E3.
	_, _, snap := c.doWith("POST", "/v1/publication/snapshots", key, "snap", nil)
	sid := snap["id"].(string)
	if status, _, res := c.doWith("POST", "/v1/publication/snapshots/"+sid+"/chunks", key, "chunk1", obj{"departments": dept, "employees": []obj{e1}}); status != 200 {
		t.Fatalf("chunk 1: %d %v", status, res)
	}
	if status, _, res := c.doWith("POST", "/v1/publication/snapshots/"+sid+"/chunks", key, "chunk2", obj{"employees": []obj{e2}}); status != 200 {
		t.Fatalf("chunk 2: %d %v", status, res)
	}
	status, _, commit := c.doWith("POST", "/v1/publication/snapshots/"+sid+"/commit", key, "commit", nil)
	if gone := commit["unpublished"].([]any); status != 200 || len(gone) != 1 || gone[0].(obj)["externalId"] != "E3" {
		t.Fatalf("commit: %d %v", status, commit)
	}

	// The responsible person sees two published; E3 kept but unpublished.
	token := c.signUp(org)
	_, _, list := c.do("GET", "/v1/employees", token, nil)
	if n := len(list["items"].([]any)); n != 2 {
		t.Fatalf("%d published, want 2: %v", n, list)
	}
	if status, _, one := c.do("GET", "/v1/employees/E3", token, nil); status != 200 || one["published"] != false || one["email"] != "anna@romashka.ru" {
		t.Fatalf("E3: %d %v", status, one)
	}
	// Publishing E3 again restores them.
	if status, _, res := c.doWith("POST", "/v1/publication/delta", key, "back", obj{"employees": []obj{e3}}); status != 200 || res["employees"].(obj)["written"].(float64) != 1 {
		t.Fatalf("restore: %d %v", status, res)
	}
	if _, _, one := c.do("GET", "/v1/employees/E3", token, nil); one["published"] != true {
		t.Fatalf("E3 not restored: %v", one)
	}
}

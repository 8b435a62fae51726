package requests

import (
	"fmt"
	"strings"
	"testing"

	"github.com/kabinet/kabinet/shared/domain"
	"github.com/kabinet/kabinet/shared/notify"
)

// A submission reads only the first approver, a level a round: it must
// name the same person as the full chain, whoever is unpublished, whoever
// heads what, with or without a director, and around a cycle of departments.
func TestFirstApproverIsTheChainsFirst(t *testing.T) {
	heads := []string{"head", "boss", "boss2", "dir"}
	variants := []string{"", "no director", "cycle", "employee heads sales"}
	checked := 0
	for _, variant := range variants {
		for mask := range 1 << len(heads) {
			e := newEnv(t)
			var off []string
			for i, h := range heads {
				if mask&(1<<i) != 0 {
					e.store.setPublished(org, h, false)
					off = append(off, h)
				}
			}
			switch variant {
			case "no director":
				e.store.setDirector(org, "")
			case "cycle":
				e.store.putDept(org, Department{ID: "root", ParentID: "sales", HeadID: "boss"})
			case "employee heads sales":
				e.store.putDept(org, Department{ID: "sales", ParentID: "root", HeadID: "emp"})
			}
			for id, dept := range staff {
				chain, err := ApproverChain(e.ctx, e.svc.structure(org), id, dept)
				if err != nil {
					t.Fatal(err)
				}
				want := ""
				if len(chain) > 0 {
					want = chain[0]
				}
				d := e.svc.Requests.deps
				got, err := d.firstApprover(e.ctx, d.newNotes(org), id, dept)
				if err != nil {
					t.Fatal(err)
				}
				if got != want {
					t.Errorf("%s, unpublished %v: first approver of %s in %s = %q, chain %v", variant, off, id, dept, got, chain)
				}
				checked++
			}
		}
	}
	if checked != len(variants)*16*len(staff) {
		t.Fatalf("checked %d cases", checked)
	}
}

// functionIDs are the ids every warmFunction hands out: one sequence, as
// ULIDs of several instances never collide.
var functionIDs = &seqIDs{}

// warmFunction is the requests use case as a function instance builds it,
// with its own cache, on the env's store and clock.
func (e *env) warmFunction() *Requests {
	e.t.Helper()
	s, err := NewRequests(e.store, e.queue, e.clock, functionIDs, Config{PublicBaseURL: "https://kabinet.test/"})
	if err != nil {
		e.t.Fatal(err)
	}
	return s
}

// A settings change made by another instance is used by a warm one at its
// very next step: the settings are read anew with every submission and
// decision (in a read the step makes anyway), never taken from the cache.
func TestSettingsChangeSeenByAWarmFunction(t *testing.T) {
	e := newEnv(t)
	warm, other := e.warmFunction(), e.warmFunction()
	v, err := warm.Submit(e.ctx, employee("emp"), vacationInput(14, 5))
	if err != nil {
		t.Fatal(err)
	}
	if e.store.orgWideReads.Load() != 1 {
		t.Fatalf("org-wide items read %d times, want once", e.store.orgWideReads.Load())
	}

	// Vacations switched off elsewhere: refused at once.
	if _, err := other.UpdateSettings(e.ctx, org, SettingsInput{Types: map[string]TypeSetting{
		string(TypeVacation): {Enabled: false, NeedsApproval: true}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := warm.Submit(e.ctx, employee("emp"), vacationInput(14, 5)); problemsOf(t, err)["type"] != "type_disabled" {
		t.Fatalf("submit after vacations were switched off elsewhere: %v, want type_disabled", err)
	}

	// Switched on again with a processor: the warm function's approval
	// hands off to them and tells them, though its cache named the
	// responsible person.
	if _, err := other.UpdateSettings(e.ctx, org, SettingsInput{
		Types:      map[string]TypeSetting{string(TypeVacation): {Enabled: true, NeedsApproval: true}},
		Processing: map[string]*Rule{string(TypeVacation): {ProcessorID: "proc"}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := warm.Decide(e.ctx, employee("head"), v.ID, true, DecisionInput{Comment: "ок"}); err != nil {
		t.Fatal(err)
	}
	if r := e.get(v.ID); r.ProcessorID != "proc" || r.ProcessorIsResponsible {
		t.Fatalf("approved %+v, want handed to proc", r)
	}
	if !stagedTo(e.store.staged(), notify.KindWorkAssigned, "proc@mail.test") {
		t.Fatalf("proc was not told: %+v", e.store.staged())
	}

	// And the instance that writes the settings routes by them itself.
	if _, err := warm.UpdateSettings(e.ctx, org, SettingsInput{Processing: map[string]*Rule{string(TypeVacation): {ProcessorID: "other"}}}); err != nil {
		t.Fatal(err)
	}
	v2, err := warm.Submit(e.ctx, employee("emp"), vacationInput(30, 5))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := warm.Decide(e.ctx, employee("head"), v2.ID, true, DecisionInput{Comment: "ок"}); err != nil {
		t.Fatal(err)
	}
	if r := e.get(v2.ID); r.ProcessorID != "other" {
		t.Fatalf("approved %+v, want handed to other", r)
	}
	if n := e.store.orgWideReads.Load(); n != 1 {
		t.Fatalf("org-wide items read %d times within the cache's life, want once", n)
	}
}

// The organization's name, templates and quiet hours are kept by a warm
// function for orgWideTTL: a template changed elsewhere is used from the
// first step after that, not before; an instance starting later uses it
// at once.
func TestOrgWideItemsCachedForTheTTL(t *testing.T) {
	e := newEnv(t)
	warm := e.warmFunction()
	submitted := func(s *Requests) string {
		t.Helper()
		before := len(e.store.staged())
		if _, err := s.Submit(e.ctx, employee("emp"), vacationInput(14, 5)); err != nil {
			t.Fatal(err)
		}
		msgs := e.store.staged()[before:]
		if len(msgs) != 1 || msgs[0].Kind != notify.KindRequestSubmitted {
			t.Fatalf("staged %+v, want the approver's message", msgs)
		}
		return msgs[0].Subject
	}
	def, _ := notify.DefaultTemplate(notify.KindRequestSubmitted)
	if got := submitted(warm); !strings.HasPrefix(got, strings.SplitN(def.Subject, "{", 2)[0]) {
		t.Fatalf("subject %q, want the default's", got)
	}
	e.store.putTemplate(org, notify.KindRequestSubmitted, notify.Template{SMS: "Новое: {link}", Subject: "Новая заявка № {requestNumber}", Body: "{link}"})
	e.store.putOrg(domain.Organization{ID: org, Name: "ООО Лютик"})

	e.clock.Advance(orgWideTTL - 1)
	if got := submitted(warm); strings.HasPrefix(got, "Новая заявка") {
		t.Fatalf("subject %q within the TTL: the cache was not used", got)
	}
	if got := submitted(e.warmFunction()); !strings.HasPrefix(got, "Новая заявка") {
		t.Fatalf("subject %q from a function starting cold, want the new template's", got)
	}
	reads := e.store.orgWideReads.Load()
	e.clock.Advance(1)
	if got := submitted(warm); !strings.HasPrefix(got, "Новая заявка") {
		t.Fatalf("subject %q once the TTL is over, want the new template's", got)
	}
	if n := e.store.orgWideReads.Load(); n != reads+1 {
		t.Fatalf("org-wide items read %d more times after the TTL, want once", n-reads)
	}
}

// A warm function keeps at most orgCacheSize organizations.
func TestOrgCacheIsBounded(t *testing.T) {
	c := newOrgCache()
	for i := range orgCacheSize + 50 {
		c.put(fmt.Sprint("org", i), orgWide{readAt: t0})
	}
	if len(c.m) != orgCacheSize {
		t.Fatalf("%d organizations kept, want %d", len(c.m), orgCacheSize)
	}
	if _, ok := c.get(fmt.Sprint("org", orgCacheSize+49), t0); !ok {
		t.Fatal("the last one put is not kept")
	}
	if _, ok := c.get("org1", t0.Add(-1)); ok {
		t.Fatal("an entry read after now (a clock set back) was used")
	}
	var nilCache *orgCache
	nilCache.put("o", orgWide{readAt: t0})
	if _, ok := nilCache.get("o", t0); ok {
		t.Fatal("a nil cache kept something")
	}
}

func stagedTo(msgs []notify.Message, kind notify.Kind, to string) bool {
	for _, m := range msgs {
		if m.Kind == kind && m.To == to {
			return true
		}
	}
	return false
}

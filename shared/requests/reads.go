package requests

import (
	"context"
	"sync"
	"time"

	"github.com/kabinet/kabinet/shared/domain"
	"github.com/kabinet/kabinet/shared/notify"
)

// A step reads what it needs of the organization together (Store.Read, one
// BatchGetItem in DynamoDB), not item by item: a submission reads the
// employee with the request settings, then the department, then the head
// with their deputy record and their cabinet; an approval reads, after the
// request, the settings with every contact it will notify. What every step
// of an organization reads alike (its name and responsible person, its
// notification templates and preferences) is kept by the warm function for
// orgWideTTL (see orgCache).

// Lookup names the items one read brings back together.
type Lookup struct {
	// OrgWide: the organization, its request settings, its notification
	// templates and preferences.
	OrgWide bool
	// Settings: the request settings alone.
	Settings bool
	// Director: the published director's employee id.
	Director    bool
	Employees   []string
	Departments []string
	// Deputies: the deputy records of these managers.
	Deputies []string
	// Contacts: where messages to these employees go (their active cabinets).
	Contacts []string
	// Responsible: the responsible person's id (the organization's
	// ResponsiblePersonID), whose contact is Found.Contacts[""].
	Responsible string
}

// Found is what a Lookup found. The maps hold what was asked for and
// exists: an absent or unpublished department, an employee never
// published, a manager without deputy record, a person without an active
// cabinet or an address are left out; a missing key means "read, none".
type Found struct {
	// Org is nil when not asked for or absent.
	Org *domain.Organization
	// Settings (asked for by OrgWide or Settings): the defaults when never saved.
	Settings  *Settings
	Templates map[notify.Kind]notify.Template
	// Prefs (OrgWide): the defaults when never saved.
	Prefs       *notify.Preferences
	Director    string
	Employees   map[string]Employee
	Departments map[string]Department
	Deputies    map[string]Deputy
	// Contacts by employee id; the responsible person's under "".
	Contacts map[string]Contact
}

// orgWideTTL bounds how stale an organization's cached name, responsible
// person, templates and preferences may be in a warm function: a change
// made elsewhere (the notices function saving a template or quiet hours,
// another instance) is seen by every instance within it. The request
// settings are not held to it: every submission and approval reads them
// anew in a batch it makes anyway, and a changed version replaces the
// cached copy (what routing and hand-off use is never older than the step).
const orgWideTTL = 30 * time.Second

// orgCacheSize bounds the organizations one warm function keeps.
const orgCacheSize = 1000

// orgWide is what every step of an organization reads alike.
type orgWide struct {
	org      *domain.Organization
	settings Settings
	tpls     map[notify.Kind]notify.Template
	prefs    notify.Preferences
	readAt   time.Time
}

// orgCache keeps each organization's orgWide for orgWideTTL after it was
// read. A nil cache keeps nothing: every step reads everything.
type orgCache struct {
	mu  sync.Mutex
	ttl time.Duration
	m   map[string]orgWide
}

func newOrgCache() *orgCache { return &orgCache{ttl: orgWideTTL, m: map[string]orgWide{}} }

// get is the organization's entry while fresh at now. A clock set back
// (tests) makes an entry stale too.
func (c *orgCache) get(orgID string, now time.Time) (orgWide, bool) {
	if c == nil {
		return orgWide{}, false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	w, ok := c.m[orgID]
	if !ok || now.Before(w.readAt) || now.Sub(w.readAt) >= c.ttl {
		return orgWide{}, false
	}
	return w, true
}

// peek is the organization's entry, fresh or not: a guess at what the
// step will read, to read more together with it, never used as read.
func (c *orgCache) peek(orgID string) (orgWide, bool) {
	if c == nil {
		return orgWide{}, false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	w, ok := c.m[orgID]
	return w, ok
}

func (c *orgCache) put(orgID string, w orgWide) {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.m[orgID]; !ok && len(c.m) >= orgCacheSize {
		// Full: drop the stale entries, or, when none is, any one.
		for id, old := range c.m {
			if w.readAt.Sub(old.readAt) >= c.ttl {
				delete(c.m, id)
			}
		}
		for id := range c.m {
			if len(c.m) < orgCacheSize {
				break
			}
			delete(c.m, id)
		}
	}
	c.m[orgID] = w
}

// settingsRead replaces the cached settings by st, read or written just
// now, when st is newer: a settings change is used by the next step of
// this instance.
func (c *orgCache) settingsRead(orgID string, st Settings) {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if w, ok := c.m[orgID]; ok && st.Version >= w.settings.Version {
		w.settings = st
		c.m[orgID] = w
	}
}

// orgWideOf is the orgWide part of f, read at now.
func orgWideOf(f Found, now time.Time) orgWide {
	w := orgWide{org: f.Org, tpls: f.Templates, readAt: now}
	if f.Settings != nil {
		w.settings = *f.Settings
	}
	if f.Prefs != nil {
		w.prefs = *f.Prefs
	}
	return w
}

// read reads l together with what the cache lacks of the organization:
// the org-wide items when stale, the request settings always when asked.
// It returns the organization's orgWide with the settings as read now.
func (s *deps) read(ctx context.Context, orgID string, l Lookup) (orgWide, Found, error) {
	now := s.Clock.Now()
	w, cached := s.cache.get(orgID, now)
	if !cached {
		l.OrgWide = true
	}
	f, err := s.Store.Read(ctx, orgID, l)
	if err != nil {
		return orgWide{}, Found{}, err
	}
	if !cached {
		w = orgWideOf(f, now)
		s.cache.put(orgID, w)
	} else if f.Settings != nil {
		w.settings = *f.Settings
		s.cache.settingsRead(orgID, w.settings)
	}
	return w, f, nil
}

// orgWide is the organization's orgWide, from the cache or read.
func (s *deps) orgWide(ctx context.Context, orgID string) (orgWide, error) {
	if w, ok := s.cache.get(orgID, s.Clock.Now()); ok {
		return w, nil
	}
	w, _, err := s.read(ctx, orgID, Lookup{})
	return w, err
}

// responsibleID is the organization's responsible person, "" when unknown.
func (w orgWide) responsibleID() string {
	if w.org == nil {
		return ""
	}
	return w.org.ResponsiblePersonID
}

// firstApprover is ApproverChain(employeeID, departmentID)[0], "" when the
// chain is empty: all a submission needs (the rest of the chain is the
// escalation's business later). It reads a level a round: each round reads
// the next department up together with the head the round before found
// (their employee item, deputy record and contact, recorded in n for the
// message to the approver), so a head who approves costs no round of
// their own. The director is read only when no head up the chain can.
func (s *deps) firstApprover(ctx context.Context, n *notes, employeeID, departmentID string) (string, error) {
	seen := map[string]bool{employeeID: true}
	visited := map[string]bool{}
	candidateOf := func(id string) Lookup {
		return Lookup{Employees: []string{id}, Deputies: []string{id}, Contacts: []string{id}}
	}
	next, candidate := departmentID, ""
	for depth := 0; ; {
		var l Lookup
		if candidate != "" {
			l = candidateOf(candidate)
		}
		if next != "" && !visited[next] && depth < maxDepth {
			visited[next] = true
			depth++
			l.Departments = []string{next}
		} else {
			next = ""
		}
		if candidate == "" && next == "" {
			break
		}
		f, err := n.fetch(ctx, l)
		if err != nil {
			return "", err
		}
		if candidate != "" && f.Employees[candidate].Published {
			return candidate, nil
		}
		candidate = ""
		if next == "" {
			continue
		}
		d, ok := f.Departments[next]
		if !ok {
			next = ""
			continue
		}
		if d.HeadID != "" && !seen[d.HeadID] {
			seen[d.HeadID], candidate = true, d.HeadID
		}
		next = d.ParentID
	}
	f, err := n.fetch(ctx, Lookup{Director: true})
	if err != nil || f.Director == "" || seen[f.Director] {
		return "", err
	}
	dir := f.Director
	if f, err = n.fetch(ctx, candidateOf(dir)); err != nil || !f.Employees[dir].Published {
		return "", err
	}
	return dir, nil
}

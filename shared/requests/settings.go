package requests

import (
	"sort"
	"strconv"
	"time"

	"github.com/kabinet/kabinet/shared/domain"
)

// TypeSetting is how the organization uses a type.
type TypeSetting struct {
	Enabled       bool `json:"enabled"`
	NeedsApproval bool `json:"needsApproval"`
}

// Rule says who carries out approved requests of a type: ProcessorID (a
// published employee), else the responsible person; Departments overrides
// it for requests of employees of the named departments.
type Rule struct {
	ProcessorID string            `json:"processorId,omitempty"`
	Departments map[string]string `json:"departments,omitempty"`
}

// Settings are an organization's request settings.
type Settings struct {
	OrganizationID string               `json:"-"`
	Types          map[Type]TypeSetting `json:"types"`
	Processing     map[Type]Rule        `json:"processing"`
	// RemindAfterHours: the approver is reminded this long after a request
	// reached them; EscalateAfterHours after the reminder it goes one level up.
	RemindAfterHours   int   `json:"remindAfterHours"`
	EscalateAfterHours int   `json:"escalateAfterHours"`
	Version            int64 `json:"version"`
}

// Defaults of the escalation.
const (
	DefaultRemindAfterHours   = 24
	DefaultEscalateAfterHours = 72
	maxHours                  = 90 * 24
	maxOverrides              = 500
)

// DefaultSettings turns every type on, with approval as each type says and
// everything processed by the responsible person.
func DefaultSettings(orgID string) Settings {
	s := Settings{OrganizationID: orgID, Types: map[Type]TypeSetting{}, Processing: map[Type]Rule{},
		RemindAfterHours: DefaultRemindAfterHours, EscalateAfterHours: DefaultEscalateAfterHours}
	for t, spec := range typeSpecs {
		s.Types[t] = TypeSetting{Enabled: true, NeedsApproval: spec.needsApproval}
	}
	return s
}

// Type is the setting of t (the default when never set).
func (s Settings) Type(t Type) TypeSetting {
	if ts, ok := s.Types[t]; ok {
		return ts
	}
	return TypeSetting{Enabled: true, NeedsApproval: typeSpecs[t].needsApproval}
}

// ProcessorFor is who carries out a request of type t of an employee of
// department: an employee id, or "" for the responsible person.
func (s Settings) ProcessorFor(t Type, department string) string {
	r := s.Processing[t]
	if p, ok := r.Departments[department]; ok && department != "" {
		return p
	}
	return r.ProcessorID
}

// nextDue is when the escalation job next looks at a request assigned at
// assigned: to remind, then (below the top of the chain) to escalate.
func (s Settings) nextDue(assigned, reminded time.Time, top bool) time.Time {
	remind := time.Duration(s.RemindAfterHours) * time.Hour
	if reminded.IsZero() {
		return assigned.Add(remind)
	}
	if top {
		return time.Time{}
	}
	return assigned.Add(remind + time.Duration(s.EscalateAfterHours)*time.Hour)
}

// SettingsInput changes settings; absent fields stay. A type's processing
// rule is replaced whole.
type SettingsInput struct {
	Types              map[string]TypeSetting `json:"types"`
	Processing         map[string]*Rule       `json:"processing"`
	RemindAfterHours   *int                   `json:"remindAfterHours"`
	EscalateAfterHours *int                   `json:"escalateAfterHours"`
}

// apply checks in and applies it to s. The processors it names are
// returned, for the caller to check they are published employees.
func (in SettingsInput) apply(s *Settings) ([]string, error) {
	var p domain.Problems
	for name, ts := range in.Types {
		t, ok := ParseType(name)
		if !ok {
			p.Add("types."+name, "unknown_type", "no such request type")
			continue
		}
		s.Types[t] = ts
	}
	var processors []string
	for name, r := range in.Processing {
		t, ok := ParseType(name)
		if !ok {
			p.Add("processing."+name, "unknown_type", "no such request type")
			continue
		}
		if r == nil {
			delete(s.Processing, t)
			continue
		}
		if len(r.Departments) > maxOverrides {
			p.Add("processing."+name+".departments", "too_many", "at most "+strconv.Itoa(maxOverrides)+" department overrides")
			continue
		}
		for _, id := range append([]string{r.ProcessorID}, values(r.Departments)...) {
			if id != "" {
				if !validID(id) {
					p.Add("processing."+name, "id_format", "processor ids are 1 to 64 printable characters")
					continue
				}
				processors = append(processors, id)
			}
		}
		for d := range r.Departments {
			if !validID(d) {
				p.Add("processing."+name+".departments", "id_format", "department ids are 1 to 64 printable characters")
			}
		}
		s.Processing[t] = *r
	}
	hours := func(field string, v *int, dst *int) {
		if v == nil {
			return
		}
		if *v < 1 || *v > maxHours {
			p.Add(field, "out_of_range", field+" is from 1 to "+strconv.Itoa(maxHours))
			return
		}
		*dst = *v
	}
	hours("remindAfterHours", in.RemindAfterHours, &s.RemindAfterHours)
	hours("escalateAfterHours", in.EscalateAfterHours, &s.EscalateAfterHours)
	sort.Strings(processors)
	return processors, p.Err()
}

func values(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for _, v := range m {
		out = append(out, v)
	}
	return out
}

// validID: the ids of published people and departments (publication's
// external ids) are 1 to 64 printable characters.
func validID(s string) bool {
	if s == "" || len(s) > 256 || !cleanText(s, false) {
		return false
	}
	n := 0
	for range s {
		n++
	}
	return n <= 64
}

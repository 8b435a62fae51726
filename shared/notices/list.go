package notices

import (
	"context"
	"regexp"
	"sync"

	"github.com/kabinet/kabinet/shared/domain"
	"github.com/kabinet/kabinet/shared/notify"
	"github.com/kabinet/kabinet/shared/publication"
)

// ListFilter narrows the notification list; empty fields match everything.
type ListFilter struct {
	EmployeeID string
	Kind       notify.Kind
}

// Page is one page of notifications, newest first.
type Page struct {
	Items      []Notification `json:"items"`
	NextCursor string         `json:"nextCursor,omitempty"`
}

// The list's limits.
const (
	DefaultListLimit = 50
	MaxListLimit     = 200
	maxCursorBytes   = 512
)

// kindRE is the shape of a notice kind. It is compiled on first use, not
// at init: {0,39} would cost every function that links this package a
// quarter of a millisecond of cold start.
var kindRE = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[a-z][a-z_]{0,39}$`) })

// ParseListFilter checks the list's filters.
func ParseListFilter(employeeID, kind *string, p *domain.Problems) ListFilter {
	var f ListFilter
	if employeeID != nil {
		if _, err := publication.ParseExternalID(*employeeID); err != nil {
			p.Add("employeeId", "id_format", "an employee id is 1 to 64 printable characters without spaces or '#'")
		}
		f.EmployeeID = *employeeID
	}
	if kind != nil {
		if !kindRE().MatchString(*kind) {
			p.Add("kind", "unknown_kind", "kind is a notification kind such as payslip_available")
		}
		f.Kind = notify.Kind(*kind)
	}
	return f
}

// List pages through the organization's notifications, newest first:
// codes, invitations, notices, each with its state; destinations are masked.
func (s *Service) List(ctx context.Context, orgID string, f ListFilter, limit int, cursor string) (Page, error) {
	var p domain.Problems
	if limit < 1 || limit > MaxListLimit {
		p.Add("limit", "out_of_range", "limit must be an integer from 1 to 200")
	}
	if len(cursor) > maxCursorBytes {
		p.Add("cursor", "cursor_invalid", "use a nextCursor value as given")
	}
	if err := p.Err(); err != nil {
		return Page{}, err
	}
	items, next, err := s.Store.Notifications(ctx, orgID, f, limit, cursor)
	if err != nil {
		return Page{}, err
	}
	out := Page{Items: make([]Notification, 0, len(items)), NextCursor: next}
	for _, n := range items {
		n.To = mask(n.Channel, n.To)
		out.Items = append(out.Items, n)
	}
	return out, nil
}

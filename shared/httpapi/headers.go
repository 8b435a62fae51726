package httpapi

import (
	"sort"
	"strings"

	"github.com/aws/aws-lambda-go/events"
)

// normalizeHeaders lower-cases the event's header names once, at the edge,
// so every handler reads them case-insensitively. API Gateway v2 already
// sends them lower-cased; the local runner, tests and other callers of the
// handler may not. Values of one name written in several cases are joined
// with commas, as HTTP joins repeated headers, in a fixed order.
func normalizeHeaders(ev *events.APIGatewayV2HTTPRequest) {
	clean := true
	for k := range ev.Headers {
		if k != strings.ToLower(k) {
			clean = false
			break
		}
	}
	if clean {
		return
	}
	names := make([]string, 0, len(ev.Headers))
	for k := range ev.Headers {
		names = append(names, k)
	}
	sort.Strings(names)
	h := make(map[string]string, len(ev.Headers))
	for _, k := range names {
		lk := strings.ToLower(k)
		if prev, ok := h[lk]; ok {
			h[lk] = prev + "," + ev.Headers[k]
			continue
		}
		h[lk] = ev.Headers[k]
	}
	ev.Headers = h
}

// Header is the value of the named request header, whatever the case of
// its name in the event (Serve lower-cases them; a handler called directly
// may get them as written).
func (r *Request) Header(name string) string {
	lname := strings.ToLower(name)
	if v, ok := r.Event.Headers[lname]; ok {
		return v
	}
	for k, v := range r.Event.Headers {
		if strings.EqualFold(k, name) {
			return v
		}
	}
	return ""
}

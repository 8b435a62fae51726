package httpapi

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/kabinet/kabinet/shared/domain"
)

// MaxBodyBytes bounds every JSON request body. The largest body of this API is
// far smaller; anything bigger is refused before it is parsed.
const MaxBodyBytes = 64 << 10

// Decode reads the JSON body into v strictly: the content type must be JSON,
// the body at most MaxBodyBytes and UTF-8 throughout, no lone surrogate
// escapes, no name twice in one object, no unknown fields, no trailing
// data, and JSON types must match.
func Decode(r *Request, v any) error { return DecodeLimit(r, v, MaxBodyBytes) }

// DecodeLimit is Decode with a route's own body limit.
func DecodeLimit(r *Request, v any, maxBytes int) error {
	ev := r.Event
	body := []byte(ev.Body)
	if ev.IsBase64Encoded {
		decoded, err := base64.StdEncoding.DecodeString(ev.Body)
		if err != nil {
			return domain.NewError(domain.CodeMalformedJSON, "body is not valid base64")
		}
		body = decoded
	}
	if len(body) > maxBytes {
		return domain.NewError(domain.CodePayloadTooLarge, fmt.Sprintf("body exceeds %d bytes", maxBytes))
	}
	if ct := r.Header("Content-Type"); ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || (mt != "application/json" && !strings.HasSuffix(mt, "+json")) {
			return domain.NewError(domain.CodeUnsupportedMediaType, "send the body as application/json")
		}
	} else if len(body) > 0 {
		return domain.NewError(domain.CodeUnsupportedMediaType, "send the body as application/json")
	}
	trimmed := bytes.TrimSpace(body)
	if len(trimmed) == 0 {
		return domain.NewError(domain.CodeMalformedJSON, "a JSON body is required")
	}
	if string(trimmed) == "null" {
		// Every body of this API is an object; null would decode as "nothing".
		return domain.NewError(domain.CodeMalformedJSON, "the body must be a JSON object")
	}
	if err := checkJSONText(body); err != nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return domain.NewError(domain.CodeMalformedJSON, describeJSONError(err))
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return domain.NewError(domain.CodeMalformedJSON, "unexpected data after the JSON value")
	}
	return nil
}

// checkJSONText refuses what encoding/json would otherwise repair or
// resolve in silence: bytes that are not UTF-8 and escaped lone UTF-16
// surrogates (both would be stored as U+FFFD), and a name given twice in
// one object (the last would win, while a proxy or firewall that reads the
// first sees another request). Syntax errors are left to the decoder,
// which reports them with their offset.
func checkJSONText(body []byte) error {
	if !utf8.Valid(body) {
		return domain.NewError(domain.CodeMalformedJSON, "the body is not valid UTF-8")
	}
	name, dup, at := scanJSONText(body)
	if at >= 0 {
		return domain.NewError(domain.CodeMalformedJSON,
			"the \\u escape at byte "+strconv.Itoa(at)+" is a lone UTF-16 surrogate, which is no character")
	}
	if dup {
		return domain.NewError(domain.CodeMalformedJSON, fmt.Sprintf("the name %q appears twice in one object", name))
	}
	return nil
}

// scanFrame is one open object or array of scanJSONText.
type scanFrame struct {
	object    bool
	expectKey bool
	names     [][]byte            // searched in order while few
	many      map[string]struct{} // folded, once there are many
}

// seen records a name and reports whether the object had it, compared
// without case (Unicode simple folding, as encoding/json matches fields).
func (f *scanFrame) seen(name []byte) bool {
	if f.many != nil {
		folded := foldName(string(name))
		if _, ok := f.many[folded]; ok {
			return true
		}
		f.many[folded] = struct{}{}
		return false
	}
	for _, n := range f.names {
		if bytes.EqualFold(n, name) {
			return true
		}
	}
	f.names = append(f.names, name)
	if len(f.names) > 16 {
		f.many = make(map[string]struct{}, 2*len(f.names))
		for _, n := range f.names {
			f.many[foldName(string(n))] = struct{}{}
		}
	}
	return false
}

// scanJSONText walks the JSON text once, without decoding values: it
// returns the first name given twice in one object, at any depth (in arrays
// too), and the offset of the first \u escape that is a UTF-16 surrogate
// outside a high-low pair (-1 for none). Names are compared as
// encoding/json matches them to struct fields, without case, so
// {"name":…,"NAME":…} is refused as well. Text that is not JSON is walked
// as far as it goes; the decoder reports it. A hand-written walk, not
// json.Decoder.Token: on a 2 MiB publication that took four times a full
// decode, this walk a quarter of one, without allocating.
func scanJSONText(b []byte) (dupName string, dup bool, surrogateAt int) {
	var stack []scanFrame
	push := func(object bool) {
		if len(stack) < cap(stack) {
			// Reuse a closed frame's storage: objects come by the thousand.
			stack = stack[:len(stack)+1]
			f := &stack[len(stack)-1]
			f.object, f.expectKey, f.names, f.many = object, object, f.names[:0], nil
			return
		}
		stack = append(stack, scanFrame{object: object, expectKey: object})
	}
	for i := 0; i < len(b); i++ {
		switch b[i] {
		case '{':
			push(true)
		case '[':
			push(false)
		case '}', ']':
			if len(stack) > 0 {
				stack = stack[:len(stack)-1]
			}
		case ',':
			if n := len(stack); n > 0 && stack[n-1].object {
				stack[n-1].expectKey = true
			}
		case '"':
			start := i + 1
			end, escaped, at := scanString(b, start)
			if at >= 0 {
				return "", false, at
			}
			i = end
			n := len(stack)
			if n == 0 || !stack[n-1].object || !stack[n-1].expectKey {
				continue
			}
			stack[n-1].expectKey = false
			name := b[start:min(end, len(b))]
			if escaped {
				var s string
				if err := json.Unmarshal(b[start-1:min(end+1, len(b))], &s); err != nil {
					return "", false, -1 // a broken escape: the decoder reports it
				}
				name = []byte(s)
			}
			if stack[n-1].seen(name) {
				return string(name), true, -1
			}
		}
	}
	return "", false, -1
}

// scanString walks a string from just after its opening quote to its
// closing quote (or the end), checking \u escapes for lone surrogates.
func scanString(b []byte, i int) (end int, escaped bool, surrogateAt int) {
	for ; i < len(b); i++ {
		switch b[i] {
		case '"':
			return i, escaped, -1
		case '\\':
			escaped = true
			if i+1 >= len(b) || b[i+1] != 'u' {
				i++ // skip the escaped character, which may be a quote
				continue
			}
			r, ok := hex4(b[i+2:])
			switch {
			case !ok:
				i++ // a broken escape: the decoder reports it
			case r >= 0xDC00 && r <= 0xDFFF:
				return i, escaped, i // a low surrogate without a high one before it
			case r >= 0xD800 && r <= 0xDBFF:
				if len(b) < i+12 || b[i+6] != '\\' || b[i+7] != 'u' {
					return i, escaped, i
				}
				if lo, ok := hex4(b[i+8:]); !ok || utf16.DecodeRune(r, lo) == unicode.ReplacementChar {
					return i, escaped, i
				}
				i += 11
			default:
				i += 5
			}
		}
	}
	return len(b), escaped, -1
}

// hex4 reads the four hex digits of a \u escape.
func hex4(b []byte) (rune, bool) {
	if len(b) < 4 {
		return 0, false
	}
	n, err := strconv.ParseUint(string(b[:4]), 16, 32)
	return rune(n), err == nil
}

// foldName folds a name so that names bytes.EqualFold finds equal fold
// alike (the Kelvin sign and k, ſ and s): each rune to the smallest of its
// simple folding orbit.
func foldName(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range s {
		least := r
		for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
			least = min(least, f)
		}
		b.WriteRune(least)
	}
	return b.String()
}

func describeJSONError(err error) string {
	var syntax *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syntax):
		return "invalid JSON at byte " + strconv.FormatInt(syntax.Offset, 10)
	case errors.As(err, &typ):
		if typ.Field != "" {
			return fmt.Sprintf("field %q must be of JSON type %s", typ.Field, jsonType(typ.Type.Kind().String()))
		}
		return "the body must be a JSON object"
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		return "unknown field " + strings.TrimPrefix(err.Error(), "json: unknown field ")
	case errors.Is(err, io.ErrUnexpectedEOF):
		return "the JSON body is truncated"
	}
	return "the body is not valid JSON"
}

func jsonType(kind string) string {
	switch kind {
	case "string":
		return "string"
	case "struct", "map":
		return "object"
	case "slice", "array":
		return "array"
	case "bool":
		return "boolean"
	}
	return "number"
}

// RequireNoBody refuses a body on routes that take none.
func RequireNoBody(r *Request) error {
	if strings.TrimSpace(r.Event.Body) != "" {
		return domain.NewError(domain.CodeValidationFailed, "this route takes no body")
	}
	return nil
}

// QueryInt reads an optional integer query parameter within [min, max].
func QueryInt(r *Request, name string, def, min, max int, p *domain.Problems) int {
	v, ok := r.Event.QueryStringParameters[name]
	if !ok {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < min || n > max {
		p.Add(name, "out_of_range", fmt.Sprintf("%s must be an integer from %d to %d", name, min, max))
		return def
	}
	return n
}

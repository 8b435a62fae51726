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

	"github.com/kabinet/kabinet/shared/domain"
)

// MaxBodyBytes bounds every JSON request body. The largest body of this API is
// far smaller; anything bigger is refused before it is parsed.
const MaxBodyBytes = 64 << 10

// Decode reads the JSON body into v strictly: the content type must be JSON,
// the body at most MaxBodyBytes, no unknown fields, no trailing data, and
// JSON types must match.
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
	if ct := ev.Headers["content-type"]; ct != "" {
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

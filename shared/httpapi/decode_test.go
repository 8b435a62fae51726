package httpapi_test

import (
	"encoding/base64"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"github.com/kabinet/kabinet/shared/domain"
	"github.com/kabinet/kabinet/shared/httpapi"
)

type input struct {
	Name  string   `json:"name"`
	Count int      `json:"count"`
	Tags  []string `json:"tags"`
	Inner struct {
		On bool `json:"on"`
	} `json:"inner"`
}

func jsonRequest(contentType, body string) *httpapi.Request {
	ev := &events.APIGatewayV2HTTPRequest{Body: body, Headers: map[string]string{}}
	if contentType != "" {
		ev.Headers["content-type"] = contentType
	}
	return &httpapi.Request{Event: ev}
}

// errCode returns the domain error code of err ("" for nil), failing on other errors.
func errCode(t *testing.T, err error) domain.ErrorCode {
	t.Helper()
	if err == nil {
		return ""
	}
	e, ok := domain.AsError(err)
	if !ok {
		t.Fatalf("error %v (%T) is not a *domain.Error", err, err)
	}
	return e.Code
}

func TestDecode(t *testing.T) {
	const ok = `{"name":"Ромашка","count":3,"tags":["a","b"],"inner":{"on":true}}`
	okValue := input{Name: "Ромашка", Count: 3, Tags: []string{"a", "b"}}
	okValue.Inner.On = true
	padded := ok + strings.Repeat(" ", httpapi.MaxBodyBytes-len(ok))

	tests := []struct {
		name        string
		contentType string
		body        string
		want        domain.ErrorCode
		detail      string // a substring of the error detail
	}{
		{"valid", "application/json", ok, "", ""},
		{"charset parameter", "application/json; charset=utf-8", ok, "", ""},
		{"upper-case media type", "Application/JSON", ok, "", ""},
		{"structured +json type", "application/merge-patch+json", ok, "", ""},
		{"trailing white space", "application/json", ok + " \n\t", "", ""},
		{"exactly MaxBodyBytes", "application/json", padded, "", ""},
		{"one byte over MaxBodyBytes", "application/json", padded + " ", domain.CodePayloadTooLarge, "65536"},
		{"size checked before media type", "text/plain", padded + " ", domain.CodePayloadTooLarge, ""},
		{"text/plain", "text/plain", ok, domain.CodeUnsupportedMediaType, "application/json"},
		{"form", "application/x-www-form-urlencoded", "name=x", domain.CodeUnsupportedMediaType, ""},
		{"unparsable content type", "application/json; =;", ok, domain.CodeUnsupportedMediaType, ""},
		{"body without content type", "", ok, domain.CodeUnsupportedMediaType, ""},
		{"empty body", "application/json", "", domain.CodeMalformedJSON, "required"},
		{"empty body without content type", "", "", domain.CodeMalformedJSON, "required"},
		{"white space body", "application/json", "  \n ", domain.CodeMalformedJSON, "required"},
		{"syntax error", "application/json", `{"name" "x"}`, domain.CodeMalformedJSON, "invalid JSON at byte"},
		{"truncated", "application/json", `{"name":"x"`, domain.CodeMalformedJSON, "truncated"},
		{"not JSON", "application/json", `name=x`, domain.CodeMalformedJSON, "invalid JSON"},
		{"string for number", "application/json", `{"count":"3"}`, domain.CodeMalformedJSON, `field "count" must be of JSON type number`},
		{"number for string", "application/json", `{"name":5}`, domain.CodeMalformedJSON, `field "name" must be of JSON type string`},
		{"string for array", "application/json", `{"tags":"a"}`, domain.CodeMalformedJSON, `field "tags" must be of JSON type array`},
		{"number for boolean", "application/json", `{"inner":{"on":1}}`, domain.CodeMalformedJSON, "JSON type boolean"},
		{"array for object", "application/json", `{"inner":[]}`, domain.CodeMalformedJSON, `field "inner" must be of JSON type object`},
		{"fraction for integer", "application/json", `{"count":1.5}`, domain.CodeMalformedJSON, `"count"`},
		{"top-level array", "application/json", `[1,2]`, domain.CodeMalformedJSON, "must be a JSON object"},
		{"top-level string", "application/json", `"x"`, domain.CodeMalformedJSON, "must be a JSON object"},
		{"unknown field", "application/json", `{"nmae":"x"}`, domain.CodeMalformedJSON, `unknown field "nmae"`},
		{"unknown nested field", "application/json", `{"inner":{"off":true}}`, domain.CodeMalformedJSON, "unknown field"},
		{"second value", "application/json", ok + ok, domain.CodeMalformedJSON, "after the JSON value"},
		{"trailing garbage", "application/json", ok + " x", domain.CodeMalformedJSON, "after the JSON value"},
		{"trailing bracket", "application/json", ok + "]", domain.CodeMalformedJSON, "after the JSON value"},

		// Text encoding/json would repair into U+FFFD: refused, not stored.
		{"invalid UTF-8 in a string", "application/json", "{\"name\":\"\xffРомашка\"}", domain.CodeMalformedJSON, "not valid UTF-8"},
		{"truncated UTF-8 sequence", "application/json", "{\"name\":\"Ромашк\xd0\"}", domain.CodeMalformedJSON, "not valid UTF-8"},
		{"overlong encoding", "application/json", "{\"name\":\"\xc0\xaf\"}", domain.CodeMalformedJSON, "not valid UTF-8"},
		{"encoded surrogate", "application/json", "{\"name\":\"\xed\xa0\x80\"}", domain.CodeMalformedJSON, "not valid UTF-8"},
		{"lone high surrogate escape", "application/json", `{"name":"\ud800x"}`, domain.CodeMalformedJSON, "lone UTF-16 surrogate"},
		{"lone high surrogate at the end", "application/json", `{"name":"\uD800"}`, domain.CodeMalformedJSON, "byte 9"},
		{"lone low surrogate escape", "application/json", `{"name":"\udc00"}`, domain.CodeMalformedJSON, "lone UTF-16 surrogate"},
		{"high surrogate then a non-surrogate", "application/json", `{"name":"\ud800\u0041"}`, domain.CodeMalformedJSON, "lone UTF-16 surrogate"},
		{"two high surrogates", "application/json", `{"name":"\ud800\ud800"}`, domain.CodeMalformedJSON, "lone UTF-16 surrogate"},
		{"lone surrogate in a name", "application/json", `{"\ud800":1}`, domain.CodeMalformedJSON, "lone UTF-16 surrogate"},
		{"lone surrogate deep in an array", "application/json", `{"tags":["a","\udfff"]}`, domain.CodeMalformedJSON, "lone UTF-16 surrogate"},

		// A name twice in one object, at any depth: refused, not last-wins.
		{"duplicate name", "application/json", `{"name":"a","name":"b"}`, domain.CodeMalformedJSON, `"name" appears twice`},
		{"duplicate name after other fields", "application/json", `{"name":"a","count":1,"tags":[],"name":"b"}`, domain.CodeMalformedJSON, "appears twice"},
		{"duplicate name differing in case", "application/json", `{"name":"a","NAME":"b"}`, domain.CodeMalformedJSON, "appears twice"},
		{"duplicate name written with an escape", "application/json", `{"name":"a","n\u0061me":"b"}`, domain.CodeMalformedJSON, "appears twice"},
		{"duplicate nested name", "application/json", `{"inner":{"on":true,"on":false}}`, domain.CodeMalformedJSON, `"on" appears twice`},
		{"duplicate name inside an array", "application/json", `{"tags":[{"a":1,"a":2}]}`, domain.CodeMalformedJSON, `"a" appears twice`},
		{"duplicate name deep in arrays", "application/json", `{"tags":[[[{"x":{"y":[{"z":1,"z":1}]}}]]]}`, domain.CodeMalformedJSON, `"z" appears twice`},
		{"duplicate object", "application/json", `{"inner":{"on":true},"inner":{"on":true}}`, domain.CodeMalformedJSON, `"inner" appears twice`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var v input
			err := httpapi.Decode(jsonRequest(tt.contentType, tt.body), &v)
			if got := errCode(t, err); got != tt.want {
				t.Fatalf("Decode = %v, want code %q", err, tt.want)
			}
			if tt.want == "" {
				if !reflect.DeepEqual(v, okValue) {
					t.Errorf("decoded %+v, want %+v", v, okValue)
				}
				return
			}
			if e, _ := domain.AsError(err); !strings.Contains(e.Detail, tt.detail) {
				t.Errorf("detail %q does not contain %q", e.Detail, tt.detail)
			}
		})
	}
}

// What is valid must stay valid: escaped pairs, the same name in sibling
// objects, and names that look like values.
func TestDecodeAcceptsValidText(t *testing.T) {
	type item struct {
		A string `json:"a"`
	}
	var v struct {
		Name  string `json:"name"`
		Items []item `json:"items"`
		Inner struct {
			Name string `json:"name"`
		} `json:"inner"`
		Map map[string]string `json:"map"`
	}
	body := `{"name":"\ud83d\ude00 \u0420\\ud800","items":[{"a":"name"},{"a":"x"}],"inner":{"name":"a"},"map":{"a":"a","b":"\"a\""}}`
	if err := httpapi.Decode(jsonRequest("application/json", body), &v); err != nil {
		t.Fatalf("Decode = %v", err)
	}
	if v.Name != "😀 Р\\ud800" || len(v.Items) != 2 || v.Items[0].A != "name" || v.Inner.Name != "a" || v.Map["b"] != `"a"` {
		t.Errorf("decoded %+v", v)
	}
}

// Objects with many names switch to a map; duplicates are found either way,
// with the folding encoding/json applies to field names.
func TestDecodeDuplicateNamesInLargeObjects(t *testing.T) {
	var names []string
	for i := range 40 {
		names = append(names, fmt.Sprintf(`"k%d":%d`, i, i))
	}
	many := "{" + strings.Join(names, ",")
	tests := []struct {
		name, body, dup string
	}{
		{"distinct names", many + "}", ""},
		{"repeat of the first after 40", many + `,"k0":1}`, "k0"},
		{"repeat of the 17th", many + `,"K16":1}`, "K16"},
		{"Kelvin sign folds to k, small object", `{"k":1,"\u212a":2}`, "\u212a"},
		{"Kelvin sign folds to k, large object", many + `,"\u212a0":1}`, "\u212a0"},
		{"long s folds to s", `{"s":1,"ſ":2}`, "ſ"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var v map[string]int
			err := httpapi.Decode(jsonRequest("application/json", tt.body), &v)
			if tt.dup == "" {
				if err != nil || len(v) != 40 {
					t.Fatalf("Decode = %v, %d names", err, len(v))
				}
				return
			}
			e, ok := domain.AsError(err)
			if !ok || e.Code != domain.CodeMalformedJSON || !strings.Contains(e.Detail, "appears twice") {
				t.Fatalf("Decode = %v, want malformed_json naming a duplicate", err)
			}
		})
	}
}

func TestDecodeBase64(t *testing.T) {
	enc := base64.StdEncoding.EncodeToString
	tests := []struct {
		name string
		body string
		want domain.ErrorCode
	}{
		{"valid", enc([]byte(`{"name":"Ромашка"}`)), ""},
		{"not base64", "{not base64}", domain.CodeMalformedJSON},
		{"decoded is not JSON", enc([]byte("hello")), domain.CodeMalformedJSON},
		{"decoded is not UTF-8", enc([]byte("{\"name\":\"\xff\"}")), domain.CodeMalformedJSON},
		{"decoded exceeds the limit", enc([]byte(`{"name":"` + strings.Repeat("x", httpapi.MaxBodyBytes) + `"}`)), domain.CodePayloadTooLarge},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := jsonRequest("application/json", tt.body)
			r.Event.IsBase64Encoded = true
			var v input
			err := httpapi.Decode(r, &v)
			if got := errCode(t, err); got != tt.want {
				t.Fatalf("Decode = %v, want code %q", err, tt.want)
			}
			if tt.want == "" && v.Name != "Ромашка" {
				t.Errorf("decoded %+v", v)
			}
		})
	}
	// A body that fits the limit only after decoding is accepted: the limit is on JSON bytes.
	body := `{"name":"` + strings.Repeat("x", httpapi.MaxBodyBytes-20) + `"}`
	r := jsonRequest("application/json", enc([]byte(body)))
	r.Event.IsBase64Encoded = true
	if len(r.Event.Body) <= httpapi.MaxBodyBytes {
		t.Fatal("test body should exceed the limit before decoding")
	}
	var v input
	if err := httpapi.Decode(r, &v); err != nil {
		t.Errorf("Decode(base64 of %d bytes) = %v", len(body), err)
	}
}

func TestRequireNoBody(t *testing.T) {
	for _, body := range []string{"", " \n"} {
		if err := httpapi.RequireNoBody(jsonRequest("", body)); err != nil {
			t.Errorf("RequireNoBody(%q) = %v", body, err)
		}
	}
	if got := errCode(t, httpapi.RequireNoBody(jsonRequest("application/json", "{}"))); got != domain.CodeValidationFailed {
		t.Errorf("RequireNoBody({}) code = %q", got)
	}
}

func TestQueryInt(t *testing.T) {
	tests := []struct {
		name    string
		params  map[string]string
		want    int
		problem bool
	}{
		{"missing gives the default", nil, 20, false},
		{"other parameter only", map[string]string{"offset": "3"}, 20, false},
		{"in range", map[string]string{"limit": "50"}, 50, false},
		{"minimum", map[string]string{"limit": "1"}, 1, false},
		{"maximum", map[string]string{"limit": "100"}, 100, false},
		{"below minimum", map[string]string{"limit": "0"}, 20, true},
		{"negative", map[string]string{"limit": "-5"}, 20, true},
		{"above maximum", map[string]string{"limit": "101"}, 20, true},
		{"not a number", map[string]string{"limit": "ten"}, 20, true},
		{"fraction", map[string]string{"limit": "1.5"}, 20, true},
		{"empty", map[string]string{"limit": ""}, 20, true},
		{"overflow", map[string]string{"limit": "99999999999999999999"}, 20, true},
		{"padded", map[string]string{"limit": " 5"}, 20, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := &httpapi.Request{Event: &events.APIGatewayV2HTTPRequest{QueryStringParameters: tt.params}}
			var p domain.Problems
			if got := httpapi.QueryInt(r, "limit", 20, 1, 100, &p); got != tt.want {
				t.Errorf("QueryInt = %d, want %d", got, tt.want)
			}
			err := p.Err()
			if !tt.problem {
				if err != nil {
					t.Errorf("unexpected problem %v", err)
				}
				return
			}
			e, ok := domain.AsError(err)
			if !ok || len(e.Fields) != 1 || e.Fields[0].Field != "limit" || e.Fields[0].Code != "out_of_range" ||
				!strings.Contains(e.Fields[0].Message, "from 1 to 100") {
				t.Errorf("problems = %v, want one out_of_range on limit", err)
			}
		})
	}
}

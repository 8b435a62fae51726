package runner

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/kabinet/kabinet/infra/lambdart"
)

func testRoutes() []GatewayRoute {
	return []GatewayRoute{
		{Method: "POST", Path: "/v1/organizations", Function: "Connect"},
		{Method: "GET", Path: "/v1/organization/api-keys", Function: "List"},
		{Method: "DELETE", Path: "/v1/organization/api-keys/{keyId}", Function: "Revoke"},
		{Method: "GET", Path: "/v1/organization/api-keys/special", Function: "Special"},
		{Method: "ANY", Path: "/files/{proxy+}", Function: "Files"},
		{Method: "GET", Path: "/files/{name}", Function: "FileGet"},
	}
}

func TestMatch(t *testing.T) {
	g := NewGateway(testRoutes(), nil, "123456789012", "api")
	cases := []struct {
		method, path, fn string
		params           map[string]string
	}{
		{"POST", "/v1/organizations", "Connect", map[string]string{}},
		{"POST", "/v1/organizations/", "Connect", map[string]string{}},
		{"GET", "/v1/organizations", "", nil}, // path known, wrong method: 404
		{"DELETE", "/v1/organization/api-keys/k%2F1", "Revoke", map[string]string{"keyId": "k/1"}},
		{"DELETE", "/v1/organization/api-keys/", "", nil},
		{"GET", "/v1/organization/api-keys/special", "Special", map[string]string{}},
		{"GET", "/v1/organization/api-keys/other", "", nil},
		{"GET", "/files/a", "FileGet", map[string]string{"name": "a"}},
		{"PUT", "/files/a", "Files", map[string]string{"proxy": "a"}},
		{"GET", "/files/a/b/c", "Files", map[string]string{"proxy": "a/b/c"}},
		{"GET", "/files", "", nil},
		{"GET", "/nope", "", nil},
	}
	for _, c := range cases {
		r, params := g.Match(c.method, c.path)
		fn := ""
		if r != nil {
			fn = r.Function
		}
		if fn != c.fn || (c.params != nil && !reflect.DeepEqual(params, c.params)) {
			t.Errorf("%s %s -> %q %v, want %q %v", c.method, c.path, fn, params, c.fn, c.params)
		}
	}
	def := NewGateway(append(testRoutes(), GatewayRoute{Method: "ANY", Path: "$default", Function: "Default"}), nil, "", "")
	if r, _ := def.Match("GET", "/v1/organizations"); r == nil || r.Function != "Default" || r.RouteKey() != "$default" {
		t.Errorf("$default: %+v", r)
	}
}

func TestBuildEvent(t *testing.T) {
	r := httptest.NewRequest("DELETE", "http://localhost:3000/v1/organization/api-keys/k1?a=1&a=2&b=x%20y", strings.NewReader(`{"x":1}`))
	r.RemoteAddr = "10.1.2.3:5555"
	r.Header.Set("Content-Type", "application/json; charset=utf-8")
	r.Header.Add("X-Custom", "one")
	r.Header.Add("X-Custom", "two")
	r.Header.Set("X-Forwarded-For", "6.6.6.6")
	r.Header.Set("User-Agent", "tester/1")
	r.Header.Add("Cookie", "a=1; b=2")
	r.Header.Add("Cookie", "c=3")
	now := time.Date(2024, 3, 5, 14, 7, 9, 0, time.UTC)
	route := &GatewayRoute{Method: "DELETE", Path: "/v1/organization/api-keys/{keyId}", Function: "Revoke"}
	ev := BuildEvent(r, []byte(`{"x":1}`), route, map[string]string{"keyId": "k1"}, "REQ=", "123456789012", "api1", now)

	if ev.Version != "2.0" || ev.RouteKey != "DELETE /v1/organization/api-keys/{keyId}" || ev.RawPath != "/v1/organization/api-keys/k1" {
		t.Errorf("basics: %+v", ev)
	}
	if ev.RawQueryString != "a=1&a=2&b=x%20y" || !reflect.DeepEqual(ev.QueryStringParameters, map[string]string{"a": "1,2", "b": "x y"}) {
		t.Errorf("query: %q %v", ev.RawQueryString, ev.QueryStringParameters)
	}
	if !reflect.DeepEqual(ev.Cookies, []string{"a=1", "b=2", "c=3"}) {
		t.Errorf("cookies: %v", ev.Cookies)
	}
	if _, ok := ev.Headers["cookie"]; ok {
		t.Error("cookie header not removed")
	}
	for k := range ev.Headers {
		if k != strings.ToLower(k) {
			t.Errorf("header %q not lower-cased", k)
		}
	}
	if ev.Headers["x-custom"] != "one,two" || ev.Headers["content-type"] != "application/json; charset=utf-8" || ev.Headers["host"] != "localhost:3000" {
		t.Errorf("headers: %v", ev.Headers)
	}
	if ev.Headers["x-forwarded-for"] != "6.6.6.6, 10.1.2.3" {
		t.Errorf("x-forwarded-for: %q", ev.Headers["x-forwarded-for"])
	}
	rc := ev.RequestContext
	if rc.HTTP.SourceIP != "10.1.2.3" {
		t.Errorf("sourceIp %q must come from the TCP peer", rc.HTTP.SourceIP)
	}
	if rc.HTTP.Method != "DELETE" || rc.HTTP.Path != "/v1/organization/api-keys/k1" || rc.HTTP.Protocol != "HTTP/1.1" || rc.HTTP.UserAgent != "tester/1" {
		t.Errorf("http: %+v", rc.HTTP)
	}
	if rc.Stage != "$default" || rc.RequestID != "REQ=" || rc.APIID != "api1" || rc.AccountID != "123456789012" || rc.RouteKey != ev.RouteKey {
		t.Errorf("context: %+v", rc)
	}
	if rc.Time != "05/Mar/2024:14:07:09 +0000" || rc.TimeEpoch != now.UnixMilli() || rc.DomainName != "localhost:3000" || rc.DomainPrefix != "localhost:3000" {
		t.Errorf("time/domain: %q %d %q %q", rc.Time, rc.TimeEpoch, rc.DomainName, rc.DomainPrefix)
	}
	if ev.Body != `{"x":1}` || ev.IsBase64Encoded || ev.PathParameters["keyId"] != "k1" {
		t.Errorf("body/params: %q %v %v", ev.Body, ev.IsBase64Encoded, ev.PathParameters)
	}

	// The JSON API Gateway sends uses these names.
	b, err := MarshalEvent(ev)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(b, []byte(`"authentication"`)) {
		t.Errorf("empty authentication sent: %s", b)
	}
	var back events.APIGatewayV2HTTPRequest
	if err := json.Unmarshal(b, &back); err != nil || back.RequestContext.HTTP.SourceIP != "10.1.2.3" || back.Headers["x-custom"] != "one,two" {
		t.Errorf("round trip: %v %+v", err, back)
	}
	for _, want := range []string{`"version":"2.0"`, `"routeKey":`, `"rawPath":`, `"sourceIp":"10.1.2.3"`, `"timeEpoch":`, `"isBase64Encoded":false`} {
		if !bytes.Contains(b, []byte(want)) {
			t.Errorf("event JSON lacks %s: %s", want, b)
		}
	}

	// Binary bodies are base64.
	for ct, b64 := range map[string]bool{
		"application/octet-stream": true, "image/png": true, "": true,
		"text/plain": false, "application/problem+json": false, "application/xml": false,
		"application/x-www-form-urlencoded": false, "APPLICATION/JSON": false,
	} {
		r := httptest.NewRequest("POST", "/x", nil)
		if ct != "" {
			r.Header.Set("Content-Type", ct)
		}
		ev := BuildEvent(r, []byte{0xff, 'a'}, route, nil, "id", "", "", now)
		if ev.IsBase64Encoded != b64 {
			t.Errorf("%q: isBase64Encoded %v", ct, ev.IsBase64Encoded)
		}
		if b64 && ev.Body != base64.StdEncoding.EncodeToString([]byte{0xff, 'a'}) {
			t.Errorf("%q: body %q", ct, ev.Body)
		}
	}
	// No body, no query: omitted.
	ev = BuildEvent(httptest.NewRequest("GET", "/x", nil), nil, route, nil, "id", "", "", now)
	if ev.Body != "" || ev.QueryStringParameters != nil || ev.PathParameters != nil || ev.Cookies != nil {
		t.Errorf("empty: %+v", ev)
	}
}

type fakeInvoker struct {
	out  []byte
	err  error
	last []byte
}

func (f *fakeInvoker) Invoke(_ context.Context, _ string, payload []byte) ([]byte, error) {
	f.last = payload
	return f.out, f.err
}

func do(t *testing.T, g *Gateway, method, path string, body io.Reader) *http.Response {
	t.Helper()
	w := httptest.NewRecorder()
	r := httptest.NewRequest(method, path, body)
	g.ServeHTTP(w, r)
	return w.Result()
}

func readBody(t *testing.T, r *http.Response) string {
	t.Helper()
	b, _ := io.ReadAll(r.Body)
	return string(b)
}

func TestGatewayResponses(t *testing.T) {
	inv := &fakeInvoker{}
	g := NewGateway(testRoutes(), inv, "123456789012", "api")
	reqIDRe := regexp.MustCompile(`^[A-Za-z0-9+/]{15}=$`)

	inv.out = []byte(`{"statusCode":201,"headers":{"Content-Type":"text/plain","X-A":"1"},"multiValueHeaders":{"X-M":["a","b"]},"cookies":["s=1; HttpOnly","t=2"],"body":"aGVsbG8=","isBase64Encoded":true}`)
	resp := do(t, g, "POST", "/v1/organizations", strings.NewReader("{}"))
	if resp.StatusCode != 201 || readBody(t, resp) != "hello" || resp.Header.Get("Content-Type") != "text/plain" || resp.Header.Get("X-A") != "1" {
		t.Errorf("structured: %d %v", resp.StatusCode, resp.Header)
	}
	if got := resp.Header.Values("X-M"); !reflect.DeepEqual(got, []string{"a", "b"}) {
		t.Errorf("multi-value: %v", got)
	}
	if got := resp.Header.Values("Set-Cookie"); !reflect.DeepEqual(got, []string{"s=1; HttpOnly", "t=2"}) {
		t.Errorf("cookies: %v", got)
	}
	if !reqIDRe.MatchString(resp.Header.Get("Apigw-Requestid")) {
		t.Errorf("apigw-requestid %q", resp.Header.Get("Apigw-Requestid"))
	}
	var ev events.APIGatewayV2HTTPRequest
	if err := json.Unmarshal(inv.last, &ev); err != nil || ev.RequestContext.RequestID != resp.Header.Get("Apigw-Requestid") {
		t.Errorf("event request id %q vs header %q (%v)", ev.RequestContext.RequestID, resp.Header.Get("Apigw-Requestid"), err)
	}

	// No statusCode: the whole output is a 200 JSON body.
	inv.out = []byte(`{"ok":true}`)
	resp = do(t, g, "POST", "/v1/organizations", nil)
	if resp.StatusCode != 200 || readBody(t, resp) != `{"ok":true}` || resp.Header.Get("Content-Type") != "application/json" {
		t.Errorf("inferred: %d", resp.StatusCode)
	}
	// No content type set by the function: none sniffed.
	inv.out = []byte(`{"statusCode":204}`)
	resp = do(t, g, "POST", "/v1/organizations", nil)
	if resp.StatusCode != 204 || resp.Header.Get("Content-Type") != "" {
		t.Errorf("204: %d %q", resp.StatusCode, resp.Header.Get("Content-Type"))
	}

	for name, c := range map[string]struct {
		out    string
		err    error
		status int
		msg    string
	}{
		"function error": {err: &lambdart.FunctionError{Type: "x", Message: "y"}, status: 500, msg: `{"message":"Internal Server Error"}`},
		"crash":          {err: &lambdart.ExitError{}, status: 500, msg: `{"message":"Internal Server Error"}`},
		"timeout":        {err: lambdart.ErrTimeout, status: 500, msg: `{"message":"Internal Server Error"}`},
		"invalid json":   {out: `{"statusCode":`, status: 500, msg: `{"message":"Internal Server Error"}`},
		"bad status":     {out: `{"statusCode":42}`, status: 500, msg: `{"message":"Internal Server Error"}`},
		"bad base64":     {out: `{"statusCode":200,"body":"%%%","isBase64Encoded":true}`, status: 500, msg: `{"message":"Internal Server Error"}`},
	} {
		inv.out, inv.err = []byte(c.out), c.err
		resp := do(t, g, "POST", "/v1/organizations", nil)
		if resp.StatusCode != c.status || readBody(t, resp) != c.msg {
			t.Errorf("%s: %d", name, resp.StatusCode)
		}
	}
	inv.err = nil

	resp = do(t, g, "GET", "/v1/organizations", nil)
	if resp.StatusCode != 404 || readBody(t, resp) != `{"message":"Not Found"}` {
		t.Errorf("wrong method: %d", resp.StatusCode)
	}
	resp = do(t, g, "GET", "/nowhere", nil)
	if resp.StatusCode != 404 {
		t.Errorf("unknown path: %d", resp.StatusCode)
	}

	inv.last = nil
	resp = do(t, g, "POST", "/v1/organizations", bytes.NewReader(make([]byte, MaxRequestBody+1)))
	if resp.StatusCode != 413 || inv.last != nil {
		t.Errorf("oversized body: %d (invoked: %v)", resp.StatusCode, inv.last != nil)
	}
	inv.out = []byte(`{"statusCode":200}`)
	resp = do(t, g, "POST", "/v1/organizations", bytes.NewReader(make([]byte, MaxRequestBody)))
	if resp.StatusCode != 200 {
		t.Errorf("10 MB body: %d", resp.StatusCode)
	}
}

// Package contract holds the API contract checks: this test keeps infra/openapi.yaml in
// step with the HttpApi routes of template.yaml, and run.sh (make contract) runs
// Schemathesis against the local runner with the spec.
package contract

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/kabinet/kabinet/infra/samtemplate"
)

// route is one (METHOD, path) pair, e.g. {"POST", "/v1/organizations"}.
type route struct{ method, path string }

func (r route) String() string { return r.method + " " + r.path }

// isPublic tells the routes that take no bearer token: connecting an organization,
// everything under /v1/auth/, and an employee's activation by invitation under
// /v1/invitations/ (the invitation token in the body is the credential).
func isPublic(r route) bool {
	return (r.method == "POST" && r.path == "/v1/organizations") || strings.HasPrefix(r.path, "/v1/auth/") ||
		strings.HasPrefix(r.path, "/v1/invitations/") || strings.HasPrefix(r.path, "/v1/pki/") || isWellKnown(r)
}

// isWellKnown tells the published documents under /.well-known/ (the JWKS):
// public GETs that take no input, so there is nothing to answer 4xx to.
func isWellKnown(r route) bool {
	return r.method == "GET" && strings.HasPrefix(r.path, "/.well-known/")
}

// isPKI tells the public CA certificate and CRL, whose bodies are DER
// (RFC 2585 media types), not JSON.
func isPKI(r route) bool { return strings.HasPrefix(r.path, "/v1/pki/") }

// isEmployerSystem tells the routes the employer system calls with the organization's
// API key (apiKeyBearer) instead of a person's access token (bearerAuth): the
// publication routes and announcing notices.
func isEmployerSystem(r route) bool {
	return strings.HasPrefix(r.path, "/v1/publication/") || (r.method == "POST" && r.path == "/v1/notices")
}

// isOperator tells the deployment operator's routes, which take the operator
// token (operatorBearer) and no organization's credential.
func isOperator(r route) bool { return strings.HasPrefix(r.path, "/v1/operator/") }

// isIdempotentWrite tells the routes that require an Idempotency-Key header: the
// employer system's writes (publications, notices), the responsible person's bulk
// cabinet actions, and an employee filing a request.
func isIdempotentWrite(r route) bool {
	return (isEmployerSystem(r) && r.method == "POST") ||
		(r.method == "POST" && (r.path == "/v1/cabinets/actions" || r.path == "/v1/requests"))
}

var httpMethods = []string{"get", "put", "post", "delete", "options", "head", "patch", "trace"}

// ---- loading ---------------------------------------------------------------

// repoRoot is the first ancestor of the working directory holding go.mod.
func repoRoot(t *testing.T) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("go.mod not found above the working directory")
		}
		dir = parent
	}
}

func loadYAML(t *testing.T, path string) *yaml.Node {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	if doc.Kind != yaml.DocumentNode || len(doc.Content) != 1 || doc.Content[0].Kind != yaml.MappingNode {
		t.Fatalf("%s: not a YAML mapping", path)
	}
	return doc.Content[0]
}

// get returns the value under key in a mapping node, or nil.
func get(n *yaml.Node, key string) *yaml.Node {
	if n == nil || n.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return n.Content[i+1]
		}
	}
	return nil
}

// path walks nested mappings.
func path(n *yaml.Node, keys ...string) *yaml.Node {
	for _, k := range keys {
		n = get(n, k)
	}
	return n
}

// pairs returns the key/value pairs of a mapping node in document order.
func pairs(n *yaml.Node) [][2]*yaml.Node {
	if n == nil || n.Kind != yaml.MappingNode {
		return nil
	}
	out := make([][2]*yaml.Node, 0, len(n.Content)/2)
	for i := 0; i+1 < len(n.Content); i += 2 {
		out = append(out, [2]*yaml.Node{n.Content[i], n.Content[i+1]})
	}
	return out
}

// seq returns the items of a sequence node; nil for anything else.
func seq(n *yaml.Node) []*yaml.Node {
	if n == nil || n.Kind != yaml.SequenceNode {
		return nil
	}
	return slices.Clone(n.Content)
}

func scalar(n *yaml.Node) string {
	if n == nil || n.Kind != yaml.ScalarNode {
		return ""
	}
	return n.Value
}

// templateRoutes reads the HttpApi events of template.yaml through infra/samtemplate,
// the parser the local runner uses too.
func templateRoutes(t *testing.T, root string) map[route]string {
	t.Helper()
	tpl, err := samtemplate.Load(filepath.Join(root, "template.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	routes := map[route]string{} // route -> "Function.Event"
	for _, r := range tpl.Routes() {
		where := r.Function + "." + r.Event
		method := strings.ToUpper(r.Method)
		if method == "" || r.Path == "" || method == "ANY" || r.Path == "$default" || strings.Contains(r.Path, "+}") {
			t.Errorf("%s: HttpApi event needs a literal Method and Path (got %q %q); the contract test does not expand ANY, $default or greedy paths", where, r.Method, r.Path)
			continue
		}
		key := route{method, r.Path}
		if prev, dup := routes[key]; dup {
			t.Errorf("%s: route %s already declared by %s", where, key, prev)
		}
		routes[key] = where
	}
	if len(routes) == 0 {
		t.Fatal("template.yaml declares no HttpApi events")
	}
	return routes
}

// ---- $ref resolution -------------------------------------------------------

// resolvePointer follows a local JSON pointer ("#/components/schemas/X") in the spec.
func resolvePointer(spec *yaml.Node, ref string) (*yaml.Node, error) {
	if !strings.HasPrefix(ref, "#/") {
		return nil, fmt.Errorf("only local references are used in this spec, got %q", ref)
	}
	n := spec
	for _, tok := range strings.Split(ref[2:], "/") {
		tok = strings.ReplaceAll(strings.ReplaceAll(tok, "~1", "/"), "~0", "~")
		switch n.Kind {
		case yaml.MappingNode:
			n = get(n, tok)
		case yaml.SequenceNode:
			i, err := strconv.Atoi(tok)
			if err != nil || i < 0 || i >= len(n.Content) {
				return nil, fmt.Errorf("%q: bad index %q", ref, tok)
			}
			n = n.Content[i]
		default:
			n = nil
		}
		if n == nil {
			return nil, fmt.Errorf("%q does not resolve", ref)
		}
	}
	return n, nil
}

// deref follows $ref chains.
func deref(t *testing.T, spec, n *yaml.Node) *yaml.Node {
	t.Helper()
	for i := 0; n != nil && i < 32; i++ {
		ref := scalar(get(n, "$ref"))
		if ref == "" {
			return n
		}
		target, err := resolvePointer(spec, ref)
		if err != nil {
			t.Fatal(err)
		}
		n = target
	}
	if n != nil {
		t.Fatal("$ref chain too long")
	}
	return nil
}

// collectRefs returns every "$ref" value in the tree with the place it sits.
func collectRefs(n *yaml.Node, at string, out map[string]string) {
	switch n.Kind {
	case yaml.MappingNode:
		for _, kv := range pairs(n) {
			if kv[0].Value == "$ref" {
				out[at] = kv[1].Value
				continue
			}
			collectRefs(kv[1], at+"/"+kv[0].Value, out)
		}
	case yaml.SequenceNode:
		for i, c := range n.Content {
			collectRefs(c, at+"/"+strconv.Itoa(i), out)
		}
	}
}

// ---- the spec's operations -------------------------------------------------

type operation struct {
	route
	node *yaml.Node
}

func specOperations(t *testing.T, spec *yaml.Node) []operation {
	t.Helper()
	var ops []operation
	for _, p := range pairs(get(spec, "paths")) {
		item := p[1]
		for _, kv := range pairs(item) {
			if slices.Contains(httpMethods, kv[0].Value) {
				ops = append(ops, operation{route{strings.ToUpper(kv[0].Value), p[0].Value}, kv[1]})
			}
		}
	}
	return ops
}

func loadSpec(t *testing.T, root string) *yaml.Node {
	t.Helper()
	return loadYAML(t, filepath.Join(root, "infra", "openapi.yaml"))
}

// ---- tests -----------------------------------------------------------------

func TestSpecIsOpenAPI31(t *testing.T) {
	spec := loadSpec(t, repoRoot(t))

	if v := scalar(get(spec, "openapi")); !regexp.MustCompile(`^3\.1\.\d+$`).MatchString(v) {
		t.Errorf("openapi: want 3.1.x, got %q", v)
	}
	if scalar(path(spec, "info", "title")) == "" || scalar(path(spec, "info", "version")) == "" {
		t.Error("info.title and info.version are required")
	}
	if get(spec, "paths") == nil {
		t.Fatal("paths is missing")
	}

	refs := map[string]string{}
	collectRefs(spec, "#", refs)
	if len(refs) == 0 {
		t.Error("no $ref at all: shared components are expected")
	}
	for at, ref := range refs {
		if _, err := resolvePointer(spec, ref); err != nil {
			t.Errorf("%s: %v", at, err)
		}
	}

	for _, p := range pairs(get(spec, "paths")) {
		if !strings.HasPrefix(p[0].Value, "/") {
			t.Errorf("path %q must start with /", p[0].Value)
		}
		for _, kv := range pairs(p[1]) {
			switch {
			case slices.Contains(httpMethods, kv[0].Value), kv[0].Value == "parameters",
				kv[0].Value == "summary", kv[0].Value == "description", kv[0].Value == "servers",
				kv[0].Value == "$ref", strings.HasPrefix(kv[0].Value, "x-"):
			default:
				t.Errorf("path %s: unknown path-item field %q", p[0].Value, kv[0].Value)
			}
		}
	}

	ids := map[string]string{}
	for _, op := range specOperations(t, spec) {
		for _, kv := range pairs(get(op.node, "responses")) {
			code := kv[0].Value
			if code != "default" && !regexp.MustCompile(`^[1-5]([0-9]{2}|XX)$`).MatchString(code) {
				t.Errorf("%s: response key %q is not a status code", op, code)
			}
			if scalar(get(deref(t, spec, kv[1]), "description")) == "" {
				t.Errorf("%s %s: a response needs a description", op, code)
			}
		}
		id := scalar(get(op.node, "operationId"))
		if prev, dup := ids[id]; dup && id != "" {
			t.Errorf("operationId %q used by both %s and %s", id, prev, op)
		}
		ids[id] = op.String()

		// Every {name} in the path has a required path parameter, and no other path parameter exists.
		want := map[string]bool{}
		for _, m := range regexp.MustCompile(`\{([^}]+)\}`).FindAllStringSubmatch(op.path, -1) {
			want[m[1]] = true
		}
		got := map[string]bool{}
		params := append(seq(path(spec, "paths", op.path, "parameters")), seq(get(op.node, "parameters"))...)
		for _, pn := range params {
			pn = deref(t, spec, pn)
			if scalar(get(pn, "in")) != "path" {
				continue
			}
			name := scalar(get(pn, "name"))
			got[name] = true
			if !want[name] {
				t.Errorf("%s: path parameter %q is not in the path", op, name)
			}
			if scalar(get(pn, "required")) != "true" {
				t.Errorf("%s: path parameter %q must be required: true", op, name)
			}
		}
		for name := range want {
			if !got[name] {
				t.Errorf("%s: path parameter %q is not declared", op, name)
			}
		}
	}
}

func TestSpecDocumentsExactlyTheTemplateRoutes(t *testing.T) {
	root := repoRoot(t)
	routes := templateRoutes(t, root)
	spec := loadSpec(t, root)

	documented := map[route]bool{}
	for _, op := range specOperations(t, spec) {
		documented[op.route] = true
		if _, ok := routes[op.route]; !ok {
			t.Errorf("%s is in infra/openapi.yaml but no HttpApi event of template.yaml declares it", op)
		}
	}
	for r, where := range routes {
		if !documented[r] {
			t.Errorf("%s (%s in template.yaml) is not documented in infra/openapi.yaml", r, where)
		}
	}
	for _, p := range pairs(get(spec, "paths")) {
		if strings.HasPrefix(p[0].Value, "/_local") {
			t.Errorf("path %s belongs to the local runner, not the API", p[0].Value)
		}
	}
	for r := range routes {
		if strings.HasPrefix(r.path, "/_local") {
			t.Errorf("template.yaml routes %s under /_local, which the local runner reserves", r)
		}
	}
}

func TestEveryOperationIsDescribed(t *testing.T) {
	spec := loadSpec(t, repoRoot(t))
	ops := specOperations(t, spec)
	if len(ops) == 0 {
		t.Fatal("the spec has no operations")
	}
	for _, op := range ops {
		if scalar(get(op.node, "operationId")) == "" {
			t.Errorf("%s: no operationId", op)
		}
		if strings.TrimSpace(scalar(get(op.node, "summary"))) == "" {
			t.Errorf("%s: no summary", op)
		}
		responses := get(op.node, "responses")
		has4xx, has2xx := false, false
		for _, kv := range pairs(responses) {
			has4xx = has4xx || strings.HasPrefix(kv[0].Value, "4")
			has2xx = has2xx || strings.HasPrefix(kv[0].Value, "2")
		}
		if !has4xx && !isWellKnown(op.route) {
			t.Errorf("%s: no 4xx response", op)
		}
		if !has2xx {
			t.Errorf("%s: no 2xx response", op)
		}
	}
}

func TestSecurity(t *testing.T) {
	spec := loadSpec(t, repoRoot(t))
	schemes := path(spec, "components", "securitySchemes")
	bearer := get(schemes, "bearerAuth")
	if scalar(get(bearer, "type")) != "http" || !strings.EqualFold(scalar(get(bearer, "scheme")), "bearer") {
		t.Fatal("components.securitySchemes.bearerAuth must be {type: http, scheme: bearer}")
	}
	apiKey := get(schemes, "apiKeyBearer")
	if scalar(get(apiKey, "type")) != "http" || !strings.EqualFold(scalar(get(apiKey, "scheme")), "bearer") {
		t.Fatal("components.securitySchemes.apiKeyBearer must be {type: http, scheme: bearer}")
	}
	if global := seq(get(spec, "security")); len(global) > 0 {
		t.Error("declare security per operation, not globally, so public operations cannot inherit it by accident")
	}
	for _, op := range specOperations(t, spec) {
		requirements := seq(get(op.node, "security"))
		for _, req := range requirements {
			for _, kv := range pairs(req) {
				if get(schemes, kv[0].Value) == nil {
					t.Errorf("%s: security scheme %q is not in components.securitySchemes", op, kv[0].Value)
				}
			}
		}
		if isPublic(op.route) {
			for _, req := range requirements {
				if len(req.Content) > 0 {
					t.Errorf("%s is public but declares security %s", op, scalar(req.Content[0]))
				}
			}
			continue
		}
		if len(requirements) == 0 {
			t.Errorf("%s is protected but declares no security", op)
		}
		want := "bearerAuth"
		switch {
		case isEmployerSystem(op.route):
			want = "apiKeyBearer"
		case isOperator(op.route):
			want = "operatorBearer"
		}
		for _, req := range requirements {
			if get(req, want) == nil {
				t.Errorf("%s: every security requirement must include %s", op, want)
			}
			for _, other := range []string{"bearerAuth", "apiKeyBearer", "operatorBearer"} {
				if other != want && get(req, other) != nil {
					t.Errorf("%s: the server does not take %s here", op, other)
				}
			}
		}
		unauthorized := get(get(op.node, "responses"), "401")
		if unauthorized == nil {
			t.Errorf("%s is protected but documents no 401", op)
			continue
		}
		if get(get(deref(t, spec, unauthorized), "headers"), "WWW-Authenticate") == nil {
			t.Errorf("%s: its 401 must document the WWW-Authenticate header", op)
		}
	}
}

// TestResponsesAndBodies encodes the API conventions the handlers share: which error
// answers each kind of operation can give, their media type, and strict request bodies.
func TestResponsesAndBodies(t *testing.T) {
	spec := loadSpec(t, repoRoot(t))
	for _, op := range specOperations(t, spec) {
		responses := get(op.node, "responses")
		require := func(code, why string) {
			if get(responses, code) == nil {
				t.Errorf("%s: must document %s (%s)", op, code, why)
			}
		}
		require("500", "any operation")
		require("503", "any operation")

		body := deref(t, spec, get(op.node, "requestBody"))
		if body != nil {
			require("400", "it takes a body")
			require("413", "it takes a body")
			require("415", "it takes a body")
			schema := path(body, "content", "application/json", "schema")
			if schema == nil {
				t.Errorf("%s: the request body must be application/json", op)
			} else {
				checkClosed(t, spec, op.String()+" request body", schema, map[*yaml.Node]bool{})
			}
			if len(pairs(get(body, "content"))) != 1 {
				t.Errorf("%s: the request body takes application/json only", op)
			}
		}
		if isPublic(op.route) && op.method == "POST" {
			require("429", "unauthenticated POSTs are rate limited")
		}

		for _, kv := range pairs(responses) {
			code := kv[0].Value
			resp := deref(t, spec, kv[1])
			content := get(resp, "content")
			switch {
			case code == "204":
				if content != nil {
					t.Errorf("%s: 204 has no body", op)
				}
			case strings.HasPrefix(code, "2") && isPKI(op.route):
				if path(content, "application/pkix-cert", "schema") == nil && path(content, "application/pkix-crl", "schema") == nil {
					t.Errorf("%s %s: a PKI body is application/pkix-cert or application/pkix-crl", op, code)
				}
			case strings.HasPrefix(code, "2"):
				if path(content, "application/json", "schema") == nil {
					t.Errorf("%s %s: a success body must be application/json", op, code)
				}
			case strings.HasPrefix(code, "4"), strings.HasPrefix(code, "5"):
				if len(pairs(content)) != 1 || path(content, "application/problem+json", "schema") == nil {
					t.Errorf("%s %s: an error body must be application/problem+json only", op, code)
					continue
				}
				if !refersTo(t, spec, path(content, "application/problem+json", "schema"), "#/components/schemas/Problem") {
					t.Errorf("%s %s: the error schema must build on #/components/schemas/Problem", op, code)
				}
			}
			if code == "429" || code == "503" {
				h := deref(t, spec, get(get(resp, "headers"), "Retry-After"))
				if h == nil || scalar(get(h, "required")) != "true" {
					t.Errorf("%s: %s must document a required Retry-After header", op, code)
				}
			}
		}
	}
}

// TestIdempotentWrites checks that the employer system's writes require the
// Idempotency-Key header and document the answers idempotency adds.
func TestIdempotentWrites(t *testing.T) {
	spec := loadSpec(t, repoRoot(t))
	n := 0
	for _, op := range specOperations(t, spec) {
		var key *yaml.Node
		for _, pn := range seq(get(op.node, "parameters")) {
			pn = deref(t, spec, pn)
			if scalar(get(pn, "in")) == "header" && strings.EqualFold(scalar(get(pn, "name")), "Idempotency-Key") {
				key = pn
			}
		}
		if !isIdempotentWrite(op.route) {
			if key != nil {
				t.Errorf("%s: the server ignores Idempotency-Key here", op)
			}
			continue
		}
		n++
		if key == nil || scalar(get(key, "required")) != "true" {
			t.Errorf("%s: must declare a required Idempotency-Key header parameter", op)
		}
		responses := get(op.node, "responses")
		for _, code := range []string{"400", "409", "422"} {
			if get(responses, code) == nil {
				t.Errorf("%s: must document %s (idempotency)", op, code)
			}
		}
		for _, kv := range pairs(responses) {
			if !strings.HasPrefix(kv[0].Value, "2") {
				continue
			}
			if get(get(deref(t, spec, kv[1]), "headers"), "Idempotent-Replayed") == nil {
				t.Errorf("%s %s: must document the Idempotent-Replayed header", op, kv[0].Value)
			}
		}
	}
	if n == 0 {
		t.Error("no idempotent write found: isIdempotentWrite matches nothing")
	}
}

// checkClosed asserts that every object schema in a request body forbids unknown
// properties, as the server rejects them.
func checkClosed(t *testing.T, spec *yaml.Node, where string, schema *yaml.Node, seen map[*yaml.Node]bool) {
	t.Helper()
	schema = deref(t, spec, schema)
	if schema == nil || seen[schema] {
		return
	}
	seen[schema] = true
	if scalar(get(schema, "type")) == "object" || get(schema, "properties") != nil {
		if ap := get(schema, "additionalProperties"); scalar(ap) != "false" {
			t.Errorf("%s: object schema at line %d needs additionalProperties: false", where, schema.Line)
		}
		for _, kv := range pairs(get(schema, "properties")) {
			checkClosed(t, spec, where+"."+kv[0].Value, kv[1], seen)
		}
	}
	if items := get(schema, "items"); items != nil {
		checkClosed(t, spec, where+"[]", items, seen)
	}
	for _, kw := range []string{"allOf", "anyOf", "oneOf"} {
		for _, sub := range seq(get(schema, kw)) {
			checkClosed(t, spec, where, sub, seen)
		}
	}
}

// refersTo reports whether schema is, or is an allOf built on, the schema at ref.
func refersTo(t *testing.T, spec, schema *yaml.Node, ref string) bool {
	t.Helper()
	for i := 0; schema != nil && i < 32; i++ {
		if r := scalar(get(schema, "$ref")); r != "" {
			if r == ref {
				return true
			}
			next, err := resolvePointer(spec, r)
			if err != nil {
				return false
			}
			schema = next
			continue
		}
		for _, sub := range seq(get(schema, "allOf")) {
			if refersTo(t, spec, sub, ref) {
				return true
			}
		}
		return false
	}
	return false
}

// TestRefResolverRejectsBrokenRefs keeps the resolver honest: a check that cannot fail
// would let a broken $ref through.
func TestRefResolverRejectsBrokenRefs(t *testing.T) {
	var doc yaml.Node
	if err := yaml.Unmarshal([]byte("components:\n  schemas:\n    A/B: {type: string}\n    C: {type: string}\n"), &doc); err != nil {
		t.Fatal(err)
	}
	spec := doc.Content[0]
	for ref, ok := range map[string]bool{
		"#/components/schemas/C":      true,
		"#/components/schemas/A~1B":   true,
		"#/components/schemas/D":      false,
		"#/components/schema/C":       false,
		"other.yaml#/components/x":    false,
		"#/components/schemas/C/type": true,
	} {
		_, err := resolvePointer(spec, ref)
		if (err == nil) != ok {
			t.Errorf("resolvePointer(%q): err = %v, want ok = %v", ref, err, ok)
		}
	}
}

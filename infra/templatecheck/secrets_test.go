package templatecheck

import (
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/kabinet/kabinet/infra/samtemplate"
	"github.com/kabinet/kabinet/infra/testenv"
)

// signers are the functions that issue sessions and so alone may read the
// private token keys: sign-in, and the account (a password change answers a
// new session). shared/app's TestEveryTemplateFunctionBuildsFromItsEnvironment
// keeps the same list on the Go side.
var signers = []string{"AuthFunction", "AccountFunction"}

// secretLooking are variable names that would carry a secret if they held
// a value rather than where to find it.
var secretLooking = regexp.MustCompile(`KEY|SECRET|PEPPER|PASSWORD|TOKEN|PRIVATE|CREDENTIAL`)

// No function's environment holds a secret: no variable refers to a NoEcho
// parameter (what the signing key and pepper were), and every variable
// named like a secret is the ARN of a Secrets Manager secret.
func TestNoSecretIsAPlainEnvironmentVariable(t *testing.T) {
	tmpl := load(t)
	for _, fn := range tmpl.Functions {
		for name, v := range fn.Environment {
			for _, ref := range refs(v) {
				if p, ok := tmpl.Parameter(ref); ok && p.NoEcho {
					t.Errorf("%s: %s holds the NoEcho parameter %s", fn.LogicalID, name, ref)
				}
			}
			if !secretLooking.MatchString(name) {
				continue
			}
			res, ok := tmpl.Resource(refOf(v))
			if !strings.HasSuffix(name, "_SECRET_ARN") || !ok || res.Type != samtemplate.TypeSecret {
				t.Errorf("%s: %s is named like a secret but is not !Ref of a Secrets Manager secret (…_SECRET_ARN): %v", fn.LogicalID, name, v)
			}
		}
	}
	for _, p := range []string{"TokenSigningKey", "CodePepper", "OperatorToken"} {
		if _, ok := tmpl.Parameter(p); ok {
			t.Errorf("parameter %s is back: secrets live in Secrets Manager", p)
		}
	}
}

// Least privilege on the secrets: a function reads exactly the secrets
// whose ARNs it is given; only the signers may read the private token keys
// (so no other function can mint a token: it has no private key); only
// they may write, and only the public keys (which they publish at the
// first deploy); no secretsmanager action is granted on "*".
func TestSecretsAreReadOnlyByTheFunctionsGivenThem(t *testing.T) {
	tmpl := load(t)
	if len(tmpl.Secrets()) == 0 {
		t.Fatal("no secrets in the template")
	}
	readers := map[string][]string{}
	for _, fn := range tmpl.Functions {
		given := map[string]bool{}
		for name, v := range fn.Environment {
			if strings.HasSuffix(name, "_SECRET_ARN") {
				given[refOf(v)] = true
			}
		}
		grants := secretGrants(t, fn)
		for action, secrets := range grants {
			for _, s := range secrets {
				if s == "*" {
					t.Errorf("%s: %s on every secret", fn.LogicalID, action)
					continue
				}
				if res, ok := tmpl.Resource(s); !ok || res.Type != samtemplate.TypeSecret {
					t.Errorf("%s: %s on %q, which is no secret of the template", fn.LogicalID, action, s)
				}
			}
			switch action {
			case "secretsmanager:GetSecretValue":
				for _, s := range secrets {
					readers[s] = append(readers[s], fn.LogicalID)
					if !given[s] {
						t.Errorf("%s may read %s but is not given its ARN", fn.LogicalID, s)
					}
				}
			case "secretsmanager:PutSecretValue":
				if !slices.Contains(signers, fn.LogicalID) || !slices.Equal(secrets, []string{"TokenPublicKeys"}) {
					t.Errorf("%s may write %v; only the signers may, and only TokenPublicKeys", fn.LogicalID, secrets)
				}
			default:
				t.Errorf("%s: %s on %v; the functions only read secrets (and the signers publish public keys)", fn.LogicalID, action, secrets)
			}
		}
		for s := range given {
			if !slices.Contains(grants["secretsmanager:GetSecretValue"], s) {
				t.Errorf("%s is given %s's ARN but may not read it", fn.LogicalID, s)
			}
		}
	}
	slices.Sort(readers["TokenSigningKeys"])
	want := slices.Sorted(slices.Values(signers))
	if !slices.Equal(readers["TokenSigningKeys"], want) {
		t.Errorf("the private token keys are readable by %v; want only %v", readers["TokenSigningKeys"], want)
	}
	if slices.Equal(readers["TokenPublicKeys"], want) || len(readers["TokenPublicKeys"]) < len(want) {
		t.Errorf("the public keys are readable by %v: the verifiers need them too", readers["TokenPublicKeys"])
	}
	// The functions that send and check one-time codes: sign-in and
	// activation, and the codes that confirm an employee's signature.
	slices.Sort(readers["CodePepperSecret"])
	if !slices.Equal(readers["CodePepperSecret"], []string{"AuthFunction", "SignaturesFunction"}) {
		t.Errorf("the code pepper is readable by %v; want only AuthFunction and SignaturesFunction", readers["CodePepperSecret"])
	}
}

// secretGrants lists, by secretsmanager action, the secrets (logical ids,
// or "*") a function's policies grant it. SAM's policy templates for
// Secrets Manager count as the actions they expand to.
func secretGrants(t *testing.T, fn samtemplate.Function) map[string][]string {
	t.Helper()
	out := map[string][]string{}
	policies, _ := fn.Properties["Policies"].([]any)
	for _, p := range policies {
		m, ok := p.(map[string]any)
		if !ok {
			continue
		}
		for name, body := range m {
			switch name {
			case "Statement":
				stmts, _ := body.([]any)
				for _, st := range stmts {
					s, _ := st.(map[string]any)
					for _, action := range list(s["Action"]) {
						a := scalar(action)
						if !strings.HasPrefix(strings.ToLower(a), "secretsmanager:") && a != "*" {
							continue
						}
						for _, r := range list(s["Resource"]) {
							target := refOf(r)
							if target == "" {
								target = scalar(r)
							}
							out[a] = append(out[a], target)
						}
					}
				}
			case "AWSSecretsManagerGetSecretValuePolicy":
				args, _ := body.(map[string]any)
				out["secretsmanager:GetSecretValue"] = append(out["secretsmanager:GetSecretValue"], refOf(args["SecretArn"]))
			default:
				if strings.Contains(name, "SecretsManager") {
					t.Errorf("%s: policy template %s is not checked here; use a Statement", fn.LogicalID, name)
				}
			}
		}
	}
	for a := range out {
		slices.Sort(out[a])
	}
	return out
}

func list(v any) []any {
	if l, ok := v.([]any); ok {
		return l
	}
	if v == nil {
		return nil
	}
	return []any{v}
}

// refs lists what a value refers to by !Ref or inside !Sub.
func refs(v any) []string {
	switch x := v.(type) {
	case map[string]any:
		var out []string
		for k, e := range x {
			switch k {
			case "Ref":
				out = append(out, scalar(e))
			case "Fn::Sub":
				text := scalar(e)
				if l, ok := e.([]any); ok && len(l) > 0 {
					text = scalar(l[0])
					out = append(out, refs(l[1:])...)
				}
				for _, m := range regexp.MustCompile(`\$\{([A-Za-z0-9]+)\}`).FindAllStringSubmatch(text, -1) {
					out = append(out, m[1])
				}
			default:
				out = append(out, refs(e)...)
			}
		}
		return out
	case []any:
		var out []string
		for _, e := range x {
			out = append(out, refs(e)...)
		}
		return out
	}
	return nil
}

// A function given a secret's ARN reads it at init only if its main passes
// app.Secrets (Run stops it otherwise); a function given none does not pass
// it, so as not to link the Secrets Manager client for nothing.
func TestMainsThatReadSecretsPassTheStore(t *testing.T) {
	tmpl := load(t)
	for _, fn := range tmpl.Functions {
		reads := false
		for name := range fn.Environment {
			reads = reads || strings.HasSuffix(name, "_SECRET_ARN")
		}
		stem := strings.ToLower(strings.TrimSuffix(fn.LogicalID, "Function"))
		src, err := os.ReadFile(filepath.Join(testenv.RepoRoot(), "functions", stem, "main.go"))
		if err != nil {
			t.Fatal(err)
		}
		if passes := strings.Contains(string(src), "app.Secrets(awssecrets.New)"); passes != reads {
			t.Errorf("%s: given secret ARNs %v, but its main passes app.Secrets %v", fn.LogicalID, reads, passes)
		}
	}
}

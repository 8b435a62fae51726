package security

import (
	"bytes"
	"encoding/base64"
	"regexp"
	"strings"
	"testing"
)

var sixDigits = regexp.MustCompile(`^[0-9]{6}$`)

func TestNewCode(t *testing.T) {
	const n = 2000
	seen := map[string]bool{}
	var firstDigits [10]int
	for i := 0; i < n; i++ {
		c, err := NewCode()
		if err != nil {
			t.Fatal(err)
		}
		if !sixDigits.MatchString(c) {
			t.Fatalf("NewCode() = %q, want 6 digits", c)
		}
		seen[c] = true
		firstDigits[c[0]-'0']++
	}
	// 2000 draws from a million collide a couple of times at most; a broken
	// generator (constant, or a handful of values) would repeat a lot.
	if len(seen) < n-20 {
		t.Errorf("%d distinct codes in %d draws", len(seen), n)
	}
	// Each leading digit, 0 included (zero-padding), turns up about 200 times.
	for d, count := range firstDigits {
		if count < 100 || count > 320 {
			t.Errorf("leading digit %d in %d of %d codes", d, count, n)
		}
	}
}

func testKey(b byte) []byte { return bytes.Repeat([]byte{b}, 32) }

func TestNewCodeHasherKeyLength(t *testing.T) {
	for _, n := range []int{0, 16, 31} {
		if h, err := NewCodeHasher(make([]byte, n)); err == nil || h != nil {
			t.Errorf("NewCodeHasher(%d bytes) = %v, %v; want an error", n, h, err)
		}
	}
	for _, n := range []int{32, 64} {
		if h, err := NewCodeHasher(make([]byte, n)); err != nil || h == nil {
			t.Errorf("NewCodeHasher(%d bytes) = %v, %v", n, h, err)
		}
	}
}

func TestCodeHasherBindsEveryField(t *testing.T) {
	key := testKey(7)
	h, err := NewCodeHasher(key)
	if err != nil {
		t.Fatal(err)
	}
	base := h.Hash("verify_phone", "01JPERSON", "+79161234567", "123456")
	if !regexp.MustCompile(`^[0-9a-f]{64}$`).MatchString(base) {
		t.Fatalf("Hash = %q, want 64 lower-case hex digits", base)
	}
	if again := h.Hash("verify_phone", "01JPERSON", "+79161234567", "123456"); again != base {
		t.Fatalf("Hash is not deterministic: %q then %q", base, again)
	}
	// The hasher keeps its own copy of the key.
	key[0] ^= 0xff
	if again := h.Hash("verify_phone", "01JPERSON", "+79161234567", "123456"); again != base {
		t.Fatal("changing the caller's key slice changed the hash")
	}

	other := []struct {
		name                                string
		purpose, subject, destination, code string
	}{
		{"purpose", "verify_email", "01JPERSON", "+79161234567", "123456"},
		{"subject", "verify_phone", "01JPERSOM", "+79161234567", "123456"},
		{"destination", "verify_phone", "01JPERSON", "+79161234568", "123456"},
		{"code", "verify_phone", "01JPERSON", "+79161234567", "123457"},
		// Moving a boundary between fields must not give the same input.
		{"boundary purpose|subject", "verify_phone0", "1JPERSON", "+79161234567", "123456"},
		{"boundary destination|code", "verify_phone", "01JPERSON", "+791612345671", "23456"},
		{"separator injection", "verify_phone", "01JPERSON;13:+79161234567", "", "123456"},
	}
	seen := map[string]string{base: "base"}
	for _, o := range other {
		got := h.Hash(o.purpose, o.subject, o.destination, o.code)
		if prev, dup := seen[got]; dup {
			t.Errorf("changing the %s gives the same hash as %s", o.name, prev)
		}
		seen[got] = o.name
		if h.Matches(base, o.purpose, o.subject, o.destination, o.code) {
			t.Errorf("Matches accepted a code with another %s", o.name)
		}
	}

	if !h.Matches(base, "verify_phone", "01JPERSON", "+79161234567", "123456") {
		t.Error("Matches refused the right code")
	}
	for _, stored := range []string{"", base[:63], strings.ToUpper(base), base + "0"} {
		if h.Matches(stored, "verify_phone", "01JPERSON", "+79161234567", "123456") {
			t.Errorf("Matches accepted stored hash %q", stored)
		}
	}

	h2, _ := NewCodeHasher(testKey(8))
	if h2.Hash("verify_phone", "01JPERSON", "+79161234567", "123456") == base {
		t.Error("another key gives the same hash")
	}
	if h2.Matches(base, "verify_phone", "01JPERSON", "+79161234567", "123456") {
		t.Error("a hasher with another key accepted the hash")
	}
}

func TestNewSecret(t *testing.T) {
	seen := map[string]bool{}
	for i := 0; i < 200; i++ {
		s, err := NewSecret()
		if err != nil {
			t.Fatal(err)
		}
		if len(s) != 43 || strings.ContainsAny(s, "+/=.") {
			t.Fatalf("NewSecret() = %q, want 43 base64url characters without padding", s)
		}
		raw, err := base64.RawURLEncoding.DecodeString(s)
		if err != nil || len(raw) != 32 {
			t.Fatalf("NewSecret() = %q decodes to %d bytes, %v", s, len(raw), err)
		}
		if seen[s] {
			t.Fatalf("NewSecret() repeated %q", s)
		}
		seen[s] = true
	}
}

func TestHashSecretAndSameHash(t *testing.T) {
	// SHA-256 test vector (FIPS 180-2).
	const abc = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
	if got := HashSecret("abc"); got != abc {
		t.Errorf("HashSecret(abc) = %q", got)
	}
	if HashSecret("abd") == abc {
		t.Error("HashSecret ignores its input")
	}
	if !SameHash(abc, HashSecret("abc")) {
		t.Error("SameHash(x, x) = false")
	}
	for _, other := range []string{HashSecret("abd"), abc[:63], "", strings.ToUpper(abc)} {
		if SameHash(abc, other) {
			t.Errorf("SameHash(abc, %q) = true", other)
		}
	}
}

func TestJoinSplitToken(t *testing.T) {
	if got := JoinToken("01JA", "01JB", "secret"); got != "01JA.01JB.secret" {
		t.Errorf("JoinToken = %q", got)
	}
	long := strings.Repeat("a", 255) + "." + strings.Repeat("b", 256) // 512 characters
	tests := []struct {
		name  string
		token string
		n     int
		want  []string
	}{
		{"three parts", "01JA.01JB.secret", 3, []string{"01JA", "01JB", "secret"}},
		{"two parts", "01JA.secret", 2, []string{"01JA", "secret"}},
		{"one part", "secret", 1, []string{"secret"}},
		{"512 characters", long, 2, []string{strings.Repeat("a", 255), strings.Repeat("b", 256)}},
		{"513 characters", long + "b", 2, nil},
		{"too few parts", "01JA.secret", 3, nil},
		{"too many parts", "01JA.01JB.secret", 2, nil},
		{"empty middle part", "01JA..secret", 3, nil},
		{"empty first part", ".01JB.secret", 3, nil},
		{"empty last part", "01JA.01JB.", 3, nil},
		{"empty token", "", 1, nil},
		{"only dots", "..", 3, nil},
	}
	for _, tt := range tests {
		got, ok := SplitToken(tt.token, tt.n)
		if ok != (tt.want != nil) || strings.Join(got, "|") != strings.Join(tt.want, "|") || len(got) != len(tt.want) {
			t.Errorf("%s: SplitToken(%q, %d) = %q, %v; want %q", tt.name, tt.token, tt.n, got, ok, tt.want)
		}
	}
	// SplitToken reverses JoinToken.
	parts := []string{"01JPERSON", "01JSESSION", "c2VjcmV0LXNlY3JldA"}
	if got, ok := SplitToken(JoinToken(parts...), 3); !ok || strings.Join(got, "|") != strings.Join(parts, "|") {
		t.Errorf("round trip = %q, %v", got, ok)
	}
}

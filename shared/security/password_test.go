package security

import (
	"encoding/base64"
	"errors"
	"strings"
	"testing"
)

// cheap are argon2id parameters that cost microseconds, for tests that need
// many hashes; the stored parameters make them verifiable like any other.
var cheap = Argon2Params{MemoryKiB: 64, Iterations: 1, Parallelism: 1, SaltLength: 16, KeyLength: 32}

func TestHashPasswordDefaultRoundTrip(t *testing.T) {
	const pw = "correct horse battery"
	h1, err := HashPassword(pw, DefaultArgon2)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(h1, "$argon2id$v=19$m=19456,t=2,p=1$") {
		t.Errorf("encoding %q does not start with the OWASP parameters", h1)
	}
	parts := strings.Split(h1, "$")
	if len(parts) != 6 || len(parts[4]) != 22 || len(parts[5]) != 43 {
		t.Errorf("encoding %q: want 16-byte salt and 32-byte key in unpadded base64", h1)
	}
	if strings.Contains(h1, pw) {
		t.Error("the encoding contains the password")
	}

	ok, err := VerifyPassword(pw, h1)
	if err != nil || !ok {
		t.Errorf("VerifyPassword(right password) = %v, %v; want true", ok, err)
	}
	ok, err = VerifyPassword("correct horse batterY", h1)
	if err != nil || ok {
		t.Errorf("VerifyPassword(wrong password) = %v, %v; want false, nil", ok, err)
	}

	h2, err := HashPassword(pw, DefaultArgon2)
	if err != nil {
		t.Fatal(err)
	}
	if h1 == h2 || strings.Split(h2, "$")[4] == parts[4] {
		t.Error("two hashes of one password share a salt")
	}
}

func TestVerifyPasswordUsesStoredParameters(t *testing.T) {
	h, err := HashPassword("пароль-с-кириллицей", cheap)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(h, "$argon2id$v=19$m=64,t=1,p=1$") {
		t.Fatalf("encoding %q does not carry the given parameters", h)
	}
	tests := []struct {
		password string
		want     bool
	}{
		{"пароль-с-кириллицей", true},
		{"пароль-с-кириллицеи", false},
		{"", false},
		{"пароль-с-кириллицей ", false},
	}
	for _, tt := range tests {
		ok, err := VerifyPassword(tt.password, h)
		if err != nil || ok != tt.want {
			t.Errorf("VerifyPassword(%q) = %v, %v; want %v", tt.password, ok, err, tt.want)
		}
	}
	// A different parameter set in the encoding means a different key.
	altered := strings.Replace(h, "t=1", "t=2", 1)
	if ok, err := VerifyPassword("пароль-с-кириллицей", altered); err != nil || ok {
		t.Errorf("VerifyPassword with altered t = %v, %v; want false, nil", ok, err)
	}
}

func TestVerifyPasswordMalformed(t *testing.T) {
	const salt, key = "c2FsdHNhbHRzYWx0c2FsdA", "aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaGhhc2g"
	// Entries that pass the parameter parse use m=64,t=1 so that a regression
	// fails fast instead of hashing expensively.
	tests := []struct{ name, encoded string }{
		{"empty", ""},
		{"plain text", "hunter2"},
		{"bcrypt", "$2b$12$R9h/cIPz0gi.URNNX3kh2OPST9/PgBkqquzi.Ss7KIUgO2t0jWMUW"},
		{"argon2i", "$argon2i$v=19$m=64,t=1,p=1$" + salt + "$" + key},
		{"argon2d", "$argon2d$v=19$m=64,t=1,p=1$" + salt + "$" + key},
		{"no leading dollar", "argon2id$v=19$m=64,t=1,p=1$" + salt + "$" + key},
		{"extra field", "$argon2id$v=19$m=64,t=1,p=1$" + salt + "$" + key + "$x"},
		{"missing hash", "$argon2id$v=19$m=64,t=1,p=1$" + salt},
		{"old version", "$argon2id$v=16$m=64,t=1,p=1$" + salt + "$" + key},
		{"version not a number", "$argon2id$v=x$m=64,t=1,p=1$" + salt + "$" + key},
		{"version missing", "$argon2id$$m=64,t=1,p=1$" + salt + "$" + key},
		{"parameters missing p", "$argon2id$v=19$m=64,t=1$" + salt + "$" + key},
		{"parameters reordered", "$argon2id$v=19$t=1,m=64,p=1$" + salt + "$" + key},
		{"memory not a number", "$argon2id$v=19$m=a,t=1,p=1$" + salt + "$" + key},
		{"negative memory", "$argon2id$v=19$m=-1,t=1,p=1$" + salt + "$" + key},
		{"memory overflows uint32", "$argon2id$v=19$m=4294967296,t=1,p=1$" + salt + "$" + key},
		{"parallelism overflows uint8", "$argon2id$v=19$m=64,t=1,p=256$" + salt + "$" + key},
		{"zero iterations", "$argon2id$v=19$m=64,t=0,p=1$" + salt + "$" + key},
		{"zero parallelism", "$argon2id$v=19$m=64,t=1,p=0$" + salt + "$" + key},
		{"too many iterations", "$argon2id$v=19$m=64,t=101,p=1$" + salt + "$" + key},
		{"too much memory", "$argon2id$v=19$m=1048577,t=1,p=1$" + salt + "$" + key},
		{"maximum memory value", "$argon2id$v=19$m=4294967295,t=1,p=1$" + salt + "$" + key},
		{"salt not base64", "$argon2id$v=19$m=64,t=1,p=1$!!!!$" + key},
		{"hash not base64", "$argon2id$v=19$m=64,t=1,p=1$" + salt + "$!!!!"},
		{"padded base64", "$argon2id$v=19$m=64,t=1,p=1$" + salt + "$" + key + "="},
		{"empty hash", "$argon2id$v=19$m=64,t=1,p=1$" + salt + "$"},
		{"only dollars", "$$$$$"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			defer func() {
				if p := recover(); p != nil {
					t.Fatalf("VerifyPassword(%q) panicked: %v", tt.encoded, p)
				}
			}()
			ok, err := VerifyPassword("password", tt.encoded)
			if ok || !errors.Is(err, ErrMalformedHash) {
				t.Fatalf("VerifyPassword(%q) = %v, %v; want false, ErrMalformedHash", tt.encoded, ok, err)
			}
		})
	}
}

// Every prefix of a valid encoding, and the encoding with any one byte
// replaced, is refused without a panic.
func TestVerifyPasswordDamagedNeverPanics(t *testing.T) {
	h, err := HashPassword("s3cret-phrase", cheap)
	if err != nil {
		t.Fatal(err)
	}
	check := func(enc string) {
		t.Helper()
		defer func() {
			if p := recover(); p != nil {
				t.Fatalf("VerifyPassword(%q) panicked: %v", enc, p)
			}
		}()
		ok, err := VerifyPassword("s3cret-phrase", enc)
		if ok {
			// Only a change the decoder cannot see (e.g. base64 padding bits) may still verify.
			if enc != h && !sameDecoded(enc, h) {
				t.Errorf("damaged encoding %q verified", enc)
			}
		}
		if err != nil && !errors.Is(err, ErrMalformedHash) {
			t.Errorf("VerifyPassword(%q) error = %v", enc, err)
		}
	}
	for i := 0; i < len(h); i++ {
		check(h[:i])
		for _, c := range []byte{'$', '0', 'A', ',', '=', 0, 0xff} {
			if h[i] != c {
				check(h[:i] + string([]byte{c}) + h[i+1:])
			}
		}
	}
	if ok, err := VerifyPassword("s3cret-phrase", h); !ok || err != nil {
		t.Fatalf("the undamaged hash does not verify: %v, %v", ok, err)
	}
}

// sameDecoded reports whether two encodings differ only in ways that decode to
// the same parameters, salt and key.
func sameDecoded(a, b string) bool {
	pa, pb := strings.Split(a, "$"), strings.Split(b, "$")
	if len(pa) != 6 || len(pb) != 6 {
		return false
	}
	for i := 0; i < 4; i++ {
		if pa[i] != pb[i] {
			return false
		}
	}
	for i := 4; i < 6; i++ {
		da, err1 := base64.RawStdEncoding.DecodeString(pa[i])
		db, err2 := base64.RawStdEncoding.DecodeString(pb[i])
		if err1 != nil || err2 != nil || string(da) != string(db) {
			return false
		}
	}
	return true
}

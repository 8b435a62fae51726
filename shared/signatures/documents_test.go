package signatures

import (
	"encoding/base64"
	"strings"
	"testing"

	"github.com/kabinet/kabinet/shared/domain"
)

// The documents of a signing call are bounded before anything is read or
// derived: count, each size, the total, and valid base64; each problem
// names its document.
func TestDecodeDocumentsBounds(t *testing.T) {
	b64 := func(n int) string { return base64.StdEncoding.EncodeToString([]byte(strings.Repeat("a", n))) }
	many := func(n, size int) []string {
		out := make([]string, n)
		for i := range out {
			out[i] = b64(size)
		}
		return out
	}
	cases := []struct {
		name  string
		in    SignInput
		field string
		code  string
	}{
		{"none", SignInput{Password: "p"}, "documents", "count"},
		{"too many", SignInput{Password: "p", Documents: many(MaxDocuments+1, 1)}, "documents", "count"},
		{"too large", SignInput{Password: "p", Documents: []string{b64(1), b64(MaxDocumentBytes + 1)}}, "documents[1]", "too_large"},
		{"not base64", SignInput{Password: "p", Documents: []string{"не base64"}}, "documents[0]", "invalid_base64"},
		{"empty", SignInput{Password: "p", Documents: []string{""}}, "documents[0]", "empty"},
		{"total", SignInput{Password: "p", Documents: many(5, MaxDocumentBytes)}, "documents", "too_large"},
		{"no password", SignInput{Documents: []string{b64(3)}}, "password", "required"},
	}
	for _, c := range cases {
		_, err := decodeDocuments(c.in)
		e, ok := domain.AsError(err)
		if !ok || e.Code != domain.CodeValidationFailed {
			t.Errorf("%s: %v", c.name, err)
			continue
		}
		found := false
		for _, f := range e.Fields {
			found = found || (f.Field == c.field && f.Code == c.code)
		}
		if !found {
			t.Errorf("%s: fields %+v, want %s %s", c.name, e.Fields, c.field, c.code)
		}
	}
	docs, err := decodeDocuments(SignInput{Password: "p", Documents: many(MaxDocuments, 1000)})
	if err != nil || len(docs) != MaxDocuments || len(docs[0]) != 1000 {
		t.Fatalf("twenty documents of 1000 bytes: %d %v", len(docs), err)
	}
	if _, err := decodeDocuments(SignInput{Password: "p", Documents: many(4, MaxDocumentBytes)}); err != nil {
		t.Fatalf("four documents of 1 MiB: %v", err)
	}
}

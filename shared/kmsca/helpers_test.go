package kmsca_test

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/kms/types"
	"github.com/aws/smithy-go/middleware"

	"github.com/kabinet/kabinet/infra/testenv"
)

func TestMain(m *testing.M) { os.Exit(testenv.Main(m)) }

// calls counts KMS requests by operation, with an SDK middleware on the real
// client (once per operation, after the SDK's retries).
type calls struct {
	mu sync.Mutex
	n  map[string]int
}

func (c *calls) add(stack *middleware.Stack) error {
	return stack.Initialize.Add(middleware.InitializeMiddlewareFunc("CountKMSCalls",
		func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
			c.mu.Lock()
			c.n[awsmiddleware.GetOperationName(ctx)]++
			c.mu.Unlock()
			return next.HandleInitialize(ctx, in)
		}), middleware.After)
}

func (c *calls) get(op string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.n[op]
}

func (c *calls) total() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	t := 0
	for _, n := range c.n {
		t += n
	}
	return t
}

func (c *calls) reset() {
	c.mu.Lock()
	c.n = map[string]int{}
	c.mu.Unlock()
}

// motoKMS is the real KMS client against moto, counting its calls.
func motoKMS(t testing.TB) (*kms.Client, *calls) {
	t.Helper()
	env := testenv.Get(t)
	c := &calls{n: map[string]int{}}
	return kms.NewFromConfig(env.AWS, func(o *kms.Options) { o.APIOptions = append(o.APIOptions, c.add) }), c
}

func createKey(t testing.TB, c *kms.Client, spec types.KeySpec, usage types.KeyUsageType) string {
	t.Helper()
	out, err := c.CreateKey(context.Background(), &kms.CreateKeyInput{KeySpec: spec, KeyUsage: usage, Description: aws.String("kmsca test")})
	if err != nil {
		t.Fatal(err)
	}
	return *out.KeyMetadata.KeyId
}

// signingKMS answers KMS GetPublicKey and Sign over the JSON 1.1 protocol,
// as KMS documents them, for one ECC_NIST_P256 key it holds: the real SDK
// client talks to it through an injected transport. It exists because moto
// (5.2.5) ignores MessageType DIGEST and signs SHA-256 of the digest instead
// (TestMotoSignHashesTheDigestAgain pins that); everything else runs on moto.
type signingKMS struct {
	keyID string
	key   *ecdsa.PrivateKey
	signs atomic.Int64
}

func newSigningKMS(t testing.TB) *signingKMS {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return &signingKMS{keyID: "1234abcd-12ab-34cd-56ef-1234567890ab", key: key}
}

func (s *signingKMS) client(t testing.TB) *kms.Client {
	env := testenv.Get(t)
	return kms.NewFromConfig(env.AWS, func(o *kms.Options) {
		o.HTTPClient = &http.Client{Transport: s}
		o.BaseEndpoint = aws.String("https://kms.us-east-1.amazonaws.com")
	})
}

func (s *signingKMS) RoundTrip(r *http.Request) (*http.Response, error) {
	var in struct {
		KeyID            string `json:"KeyId"`
		Message          []byte
		MessageType      string
		SigningAlgorithm string
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		return nil, err
	}
	if err := json.Unmarshal(body, &in); err != nil {
		return reply(400, map[string]any{"__type": "SerializationException", "message": err.Error()}), nil
	}
	if in.KeyID != s.keyID {
		return reply(400, map[string]any{"__type": "NotFoundException", "message": "Key '" + in.KeyID + "' does not exist"}), nil
	}
	switch op := r.Header.Get("X-Amz-Target"); op {
	case "TrentService.GetPublicKey":
		spki, err := x509.MarshalPKIXPublicKey(&s.key.PublicKey)
		if err != nil {
			return nil, err
		}
		return reply(200, map[string]any{"KeyId": s.keyID, "PublicKey": spki, "KeySpec": "ECC_NIST_P256",
			"KeyUsage": "SIGN_VERIFY", "SigningAlgorithms": []string{"ECDSA_SHA_256"}}), nil
	case "TrentService.Sign":
		s.signs.Add(1)
		if in.SigningAlgorithm != "ECDSA_SHA_256" {
			return reply(400, map[string]any{"__type": "ValidationException", "message": "bad SigningAlgorithm"}), nil
		}
		digest := in.Message
		switch in.MessageType {
		case "DIGEST":
			if len(digest) != sha256.Size {
				return reply(400, map[string]any{"__type": "ValidationException", "message": "Digest is invalid length for algorithm ECDSA_SHA_256."}), nil
			}
		case "", "RAW":
			sum := sha256.Sum256(in.Message)
			digest = sum[:]
		default:
			return reply(400, map[string]any{"__type": "ValidationException", "message": "bad MessageType"}), nil
		}
		sig, err := ecdsa.SignASN1(rand.Reader, s.key, digest)
		if err != nil {
			return nil, err
		}
		return reply(200, map[string]any{"KeyId": s.keyID, "Signature": sig, "SigningAlgorithm": "ECDSA_SHA_256"}), nil
	default:
		return reply(400, map[string]any{"__type": "UnsupportedOperationException", "message": fmt.Sprintf("%s is not served here", op)}), nil
	}
}

func reply(status int, v map[string]any) *http.Response {
	b, _ := json.Marshal(v) // []byte fields become base64, as KMS's blobs
	return &http.Response{StatusCode: status, Body: io.NopCloser(bytes.NewReader(b)),
		Header: http.Header{"Content-Type": {"application/x-amz-json-1.1"}}, ContentLength: int64(len(b))}
}

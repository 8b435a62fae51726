// Package awssecrets is the Secrets Manager client behind secrets.Store. It
// is apart from shared/secrets so that only the functions whose mains pass
// it link the client.
package awssecrets

import (
	"context"
	"errors"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/kabinet/kabinet/shared/awserr"
	"github.com/kabinet/kabinet/shared/secrets"
)

// API is what the store calls of the Secrets Manager client.
type API interface {
	GetSecretValue(ctx context.Context, in *secretsmanager.GetSecretValueInput, opts ...func(*secretsmanager.Options)) (*secretsmanager.GetSecretValueOutput, error)
	PutSecretValue(ctx context.Context, in *secretsmanager.PutSecretValueInput, opts ...func(*secretsmanager.Options)) (*secretsmanager.PutSecretValueOutput, error)
}

// Store reads and writes secrets by id (an ARN or a name).
type Store struct{ API API }

// New is the store of the SDK configuration cfg (endpoint from the SDK's
// standard variables, as every client here).
func New(cfg aws.Config) secrets.Store { return Store{API: secretsmanager.NewFromConfig(cfg)} }

// Get implements secrets.Store.
func (s Store) Get(ctx context.Context, id string) (string, error) {
	out, err := s.API.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(id)})
	if err != nil {
		return "", awserr.Wrap("read secret "+id, err)
	}
	if out.SecretString == nil {
		return "", awserr.Wrap("read secret "+id, errNoString)
	}
	return *out.SecretString, nil
}

// Put implements secrets.Store.
func (s Store) Put(ctx context.Context, id, value string) error {
	_, err := s.API.PutSecretValue(ctx, &secretsmanager.PutSecretValueInput{SecretId: aws.String(id), SecretString: aws.String(value)})
	return awserr.Wrap("write secret "+id, err)
}

var errNoString = errors.New("the secret holds no string (a binary secret)")

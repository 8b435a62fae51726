// Package dynamostore is the DynamoDB adapter: one table, every item keyed
// under its tenant (PK "ORG#<id>"), except the deployment-wide rate-limit
// counters (PK "RATE#…"), which belong to no tenant. It builds requests with
// the SDK's attributevalue and expression packages.
package dynamostore

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/kabinet/kabinet/shared/awserr"
	"github.com/kabinet/kabinet/shared/domain"
)

// API is the part of the DynamoDB client the store uses.
type API interface {
	GetItem(ctx context.Context, in *dynamodb.GetItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error)
	PutItem(ctx context.Context, in *dynamodb.PutItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error)
	UpdateItem(ctx context.Context, in *dynamodb.UpdateItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error)
	DeleteItem(ctx context.Context, in *dynamodb.DeleteItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.DeleteItemOutput, error)
	Query(ctx context.Context, in *dynamodb.QueryInput, optFns ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error)
	TransactWriteItems(ctx context.Context, in *dynamodb.TransactWriteItemsInput, optFns ...func(*dynamodb.Options)) (*dynamodb.TransactWriteItemsOutput, error)
}

// Store implements the onboarding store on one table.
type Store struct {
	db    API
	table string
}

// New returns a store on the named table.
func New(db API, table string) *Store {
	return &Store{db: db, table: table}
}

func orgPK(orgID string) string { return "ORG#" + orgID }

// key is the primary key of an item.
type key struct {
	PK string `dynamodbav:"PK"`
	SK string `dynamodbav:"SK"`
}

func (k key) av() map[string]types.AttributeValue {
	return map[string]types.AttributeValue{
		"PK": &types.AttributeValueMemberS{Value: k.PK},
		"SK": &types.AttributeValueMemberS{Value: k.SK},
	}
}

// ms stores instants as Unix milliseconds, so that conditions can compare them.
func ms(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMilli()
}

func fromMS(v int64) time.Time {
	if v == 0 {
		return time.Time{}
	}
	return time.UnixMilli(v).UTC()
}

// ttl is the epoch-seconds attribute DynamoDB's TTL deletes by. Expiry is
// always checked in code too: TTL deletion lags by up to two days.
func ttl(t time.Time) int64 { return t.Unix() }

// get reads one item into out; domain.ErrNotFound when absent.
func (s *Store) get(ctx context.Context, k key, out any) error {
	res, err := s.db.GetItem(ctx, &dynamodb.GetItemInput{TableName: &s.table, Key: k.av(), ConsistentRead: aws.Bool(true)})
	if err != nil {
		return awserr.Wrap(fmt.Sprintf("get %s/%s", k.PK, k.SK), err)
	}
	if res.Item == nil {
		return domain.ErrNotFound
	}
	return attributevalue.UnmarshalMap(res.Item, out)
}

func conditionFailed(err error) bool {
	var ccf *types.ConditionalCheckFailedException
	return errors.As(err, &ccf)
}

// cancelled reports whether a transaction was cancelled, and the reason code
// of each action ("None", "ConditionalCheckFailed", …).
func cancelled(err error) ([]string, bool) {
	var tce *types.TransactionCanceledException
	if !errors.As(err, &tce) {
		return nil, false
	}
	codes := make([]string, len(tce.CancellationReasons))
	for i, r := range tce.CancellationReasons {
		codes[i] = aws.ToString(r.Code)
	}
	return codes, true
}

// update builds an UpdateItem input from expression builders.
func (s *Store) update(k key, upd expression.UpdateBuilder, cond *expression.ConditionBuilder) (*dynamodb.UpdateItemInput, error) {
	b := expression.NewBuilder().WithUpdate(upd)
	if cond != nil {
		b = b.WithCondition(*cond)
	}
	expr, err := b.Build()
	if err != nil {
		return nil, err
	}
	return &dynamodb.UpdateItemInput{
		TableName: &s.table, Key: k.av(),
		UpdateExpression: expr.Update(), ConditionExpression: expr.Condition(),
		ExpressionAttributeNames: expr.Names(), ExpressionAttributeValues: expr.Values(),
	}, nil
}

// put builds a Put with an optional condition.
func (s *Store) put(item any, cond *expression.ConditionBuilder) (*types.Put, error) {
	av, err := attributevalue.MarshalMap(item)
	if err != nil {
		return nil, err
	}
	p := &types.Put{TableName: &s.table, Item: av}
	if cond != nil {
		expr, err := expression.NewBuilder().WithCondition(*cond).Build()
		if err != nil {
			return nil, err
		}
		p.ConditionExpression, p.ExpressionAttributeNames, p.ExpressionAttributeValues = expr.Condition(), expr.Names(), expr.Values()
	}
	return p, nil
}

// putItem writes item with an optional condition; the raw error is returned
// so callers can tell a failed condition from a failure.
func (s *Store) putItem(ctx context.Context, item any, cond *expression.ConditionBuilder) error {
	p, err := s.put(item, cond)
	if err != nil {
		return err
	}
	_, err = s.db.PutItem(ctx, &dynamodb.PutItemInput{TableName: p.TableName, Item: p.Item,
		ConditionExpression: p.ConditionExpression, ExpressionAttributeNames: p.ExpressionAttributeNames,
		ExpressionAttributeValues: p.ExpressionAttributeValues})
	return err
}

func notExists() *expression.ConditionBuilder {
	c := expression.AttributeNotExists(expression.Name("PK"))
	return &c
}

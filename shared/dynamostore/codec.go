package dynamostore

import (
	"time"

	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// The item codecs: items are Go structs marshalled with attributevalue,
// instants stored as Unix milliseconds (so conditions can compare them),
// expiry as the epoch seconds DynamoDB's TTL deletes by.

// ms stores an instant as Unix milliseconds; the zero time as 0.
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

// decode unmarshals one item.
func decode[T any](item map[string]types.AttributeValue) (T, error) {
	var it T
	err := attributevalue.UnmarshalMap(item, &it)
	return it, err
}

// decodeAll unmarshals a page of items.
func decodeAll[T any](items []map[string]types.AttributeValue) ([]T, error) {
	var its []T
	err := attributevalue.UnmarshalListOfMaps(items, &its)
	return its, err
}

// mapAll converts each item with fn.
func mapAll[T, U any](its []T, fn func(T) U) []U {
	out := make([]U, len(its))
	for i, it := range its {
		out[i] = fn(it)
	}
	return out
}

// The conditions the repositories share.

// notExists: no item has the key yet.
func notExists() *expression.ConditionBuilder {
	c := expression.AttributeNotExists(expression.Name("PK"))
	return &c
}

// exists: the item is there.
func exists() *expression.ConditionBuilder {
	c := expression.AttributeExists(expression.Name("PK"))
	return &c
}

// versionIs: the item is absent (version 0) or still at version v.
func versionIs(v int64) *expression.ConditionBuilder {
	if v == 0 {
		return notExists()
	}
	c := expression.Name("Version").Equal(expression.Value(v))
	return &c
}

func cond(c expression.ConditionBuilder) *expression.ConditionBuilder { return &c }

package dynamostore

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/kabinet/kabinet/shared/awserr"
	"github.com/kabinet/kabinet/shared/domain"
	"github.com/kabinet/kabinet/shared/publication"
)

type snapshotItem struct {
	key
	Type      string
	ID        string
	Status    string
	Chunks    int
	CreatedAt int64
	ExpiresAt int64
	TTL       int64 `dynamodbav:"ttl"`
}

// chunkItem remembers who one chunk named, so that re-publishing an
// unchanged organization as a snapshot writes one small item per chunk
// instead of touching every row.
type chunkItem struct {
	key
	Type        string
	Employees   []string `dynamodbav:",omitempty"`
	Departments []string `dynamodbav:",omitempty"`
	TTL         int64    `dynamodbav:"ttl"`
}

func snapKey(orgID, id string) key { return key{orgPK(orgID), "SNAP#" + id} }

// snapshotRetention keeps snapshot records for a week after they expire.
const snapshotRetention = 7 * 24 * time.Hour

// BeginSnapshot stores a new open snapshot.
func (p *Publication) BeginSnapshot(ctx context.Context, s publication.Snapshot) error {
	err := p.store.putItem(ctx, snapshotItem{key: snapKey(s.OrganizationID, s.ID), Type: "Snapshot", ID: s.ID, Status: s.Status,
		CreatedAt: ms(s.CreatedAt), ExpiresAt: ms(s.ExpiresAt), TTL: ttl(s.ExpiresAt.Add(snapshotRetention))}, notExists())
	return awserr.Wrap("begin snapshot", err)
}

// Snapshot reads a snapshot of the organization.
func (p *Publication) Snapshot(ctx context.Context, orgID, id string) (publication.Snapshot, error) {
	var it snapshotItem
	if err := p.store.get(ctx, snapKey(orgID, id), &it); err != nil {
		return publication.Snapshot{}, err
	}
	return publication.Snapshot{ID: it.ID, OrganizationID: orgID, Status: it.Status, Chunks: it.Chunks,
		CreatedAt: fromMS(it.CreatedAt), ExpiresAt: fromMS(it.ExpiresAt)}, nil
}

// AddSnapshotChunk records the rows a chunk named and counts the chunk.
func (p *Publication) AddSnapshotChunk(ctx context.Context, orgID, snapshotID, chunkID string, seen []publication.RowRef) error {
	it := chunkItem{key: key{orgPK(orgID), "SNAP#" + snapshotID + "#CHUNK#" + chunkID}, Type: "SnapshotChunk",
		TTL: ttl(time.Now().Add(snapshotRetention + 24*time.Hour))}
	for _, r := range seen {
		switch r.Kind {
		case publication.KindEmployee:
			it.Employees = append(it.Employees, r.ExternalID)
		case publication.KindDepartment:
			it.Departments = append(it.Departments, r.ExternalID)
		}
	}
	if err := p.store.putItem(ctx, it, nil); err != nil {
		return awserr.Wrap("add snapshot chunk", err)
	}
	// The count is informational: the chunk item above is what the commit
	// reads, so a lost increment costs nothing (and two plain writes cost
	// half a transaction's).
	upd, err := p.store.update(snapKey(orgID, snapshotID), expression.Add(expression.Name("Chunks"), expression.Value(1)), nil)
	if err != nil {
		return err
	}
	_, err = p.db.UpdateItem(ctx, upd)
	return awserr.Wrap("count snapshot chunk", err)
}

// SnapshotSeen gathers the rows every chunk of the snapshot named.
func (p *Publication) SnapshotSeen(ctx context.Context, orgID, snapshotID string) (map[publication.RowRef]bool, error) {
	seen := map[publication.RowRef]bool{}
	err := p.queryPrefix(ctx, orgID, "SNAP#"+snapshotID+"#CHUNK#", "", func(items []map[string]types.AttributeValue) error {
		var its []chunkItem
		if err := attributevalue.UnmarshalListOfMaps(items, &its); err != nil {
			return err
		}
		for _, it := range its {
			for _, id := range it.Employees {
				seen[publication.RowRef{Kind: publication.KindEmployee, ExternalID: id}] = true
			}
			for _, id := range it.Departments {
				seen[publication.RowRef{Kind: publication.KindDepartment, ExternalID: id}] = true
			}
		}
		return nil
	})
	return seen, err
}

// Published lists every published department and employee, reading only
// their keys and status.
func (p *Publication) Published(ctx context.Context, orgID string) ([]publication.RowRef, error) {
	var out []publication.RowRef
	for _, kind := range []struct{ prefix, kind string }{{"DEPT#", publication.KindDepartment}, {"EMP#", publication.KindEmployee}} {
		err := p.queryPrefix(ctx, orgID, kind.prefix, "ExternalID,Published", func(items []map[string]types.AttributeValue) error {
			var its []struct {
				ExternalID string
				Published  bool
			}
			if err := attributevalue.UnmarshalListOfMaps(items, &its); err != nil {
				return err
			}
			for _, it := range its {
				if it.Published {
					out = append(out, publication.RowRef{Kind: kind.kind, ExternalID: it.ExternalID})
				}
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}

// Unpublish marks rows unpublished and takes employees out of the indexes;
// their data stays. It returns the rows it could not update.
func (p *Publication) Unpublish(ctx context.Context, orgID string, rows []publication.RowRef, now time.Time) ([]publication.RowRef, error) {
	var mu sync.Mutex
	var failed []publication.RowRef
	err := p.parallel(ctx, len(rows), func(ctx context.Context, i int) error {
		r := rows[i]
		k := deptKey(orgID, r.ExternalID)
		upd := expression.Set(expression.Name("Published"), expression.Value(false)).
			Set(expression.Name("UpdatedAt"), expression.Value(ms(now)))
		if r.Kind == publication.KindEmployee {
			k = empKey(orgID, r.ExternalID)
			upd = upd.Remove(expression.Name("GSI2PK")).Remove(expression.Name("GSI2SK")).
				Remove(expression.Name("GSI3PK")).Remove(expression.Name("GSI3SK"))
		}
		cond := expression.AttributeExists(expression.Name("PK"))
		in, err := p.store.update(k, upd, &cond)
		if err != nil {
			return err
		}
		if _, err := p.db.UpdateItem(ctx, in); err != nil && !conditionFailed(err) {
			if !awserr.Transient(err) {
				return awserr.Wrap("unpublish", err)
			}
			mu.Lock()
			failed = append(failed, r)
			mu.Unlock()
		}
		return nil
	})
	return failed, err
}

// CloseSnapshot marks an open snapshot committed.
func (p *Publication) CloseSnapshot(ctx context.Context, orgID, id string, now time.Time) error {
	cond := expression.Name("Status").Equal(expression.Value(publication.SnapshotOpen))
	in, err := p.store.update(snapKey(orgID, id), expression.Set(expression.Name("Status"), expression.Value(publication.SnapshotCommitted)).
		Set(expression.Name("CommittedAt"), expression.Value(ms(now))), &cond)
	if err != nil {
		return err
	}
	if _, err := p.db.UpdateItem(ctx, in); conditionFailed(err) {
		return domain.NewError(domain.CodeSnapshotClosed, "the snapshot is already committed")
	} else if err != nil {
		return awserr.Wrap("close snapshot", err)
	}
	return nil
}

// Lock takes the organization's publication lock unless another owner holds
// an unexpired one.
func (p *Publication) Lock(ctx context.Context, orgID, owner string, until, now time.Time) (bool, error) {
	cond := expression.AttributeNotExists(expression.Name("PK")).Or(expression.Name("Until").LessThan(expression.Value(ms(now))))
	err := p.store.putItem(ctx, struct {
		key
		Owner string
		Until int64
		TTL   int64 `dynamodbav:"ttl"`
	}{key{orgPK(orgID), "PUBLOCK"}, owner, ms(until), ttl(until.Add(time.Hour))}, &cond)
	if conditionFailed(err) {
		return false, nil
	}
	return err == nil, awserr.Wrap("lock publication", err)
}

// Unlock releases the lock if this owner still holds it.
func (p *Publication) Unlock(ctx context.Context, orgID, owner string) error {
	expr, err := expression.NewBuilder().WithCondition(expression.Name("Owner").Equal(expression.Value(owner))).Build()
	if err != nil {
		return err
	}
	_, err = p.db.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: &p.store.table, Key: key{orgPK(orgID), "PUBLOCK"}.av(),
		ConditionExpression: expr.Condition(), ExpressionAttributeNames: expr.Names(), ExpressionAttributeValues: expr.Values()})
	if err != nil && !conditionFailed(err) {
		return awserr.Wrap("unlock publication", err)
	}
	return nil
}

// employeeCursor is the last evaluated key of a list query; only the sort
// keys travel, the partitions are rebuilt from the caller's tenant.
type employeeCursor struct {
	SK    string `json:"s"`
	IdxSK string `json:"i"`
}

// Employees pages through published employees: all, one department's, or
// those who cannot get a cabinet (optionally of one department).
func (p *Publication) Employees(ctx context.Context, orgID string, f publication.ListFilter, limit int, cursor string) ([]publication.PublishedEmployee, string, error) {
	index, pkName, skName, pk := "GSI2", "GSI2PK", "GSI2SK", employeesPK(orgID)
	kc := expression.Key(pkName).Equal(expression.Value(pk))
	var filter *expression.ConditionBuilder
	if f.CannotGetCabinet {
		index, pkName, skName, pk = "GSI3", "GSI3PK", "GSI3SK", cabinetPK(orgID, false)
		kc = expression.Key(pkName).Equal(expression.Value(pk))
		if f.DepartmentID != "" {
			c := expression.Name("DepartmentID").Equal(expression.Value(f.DepartmentID))
			filter = &c
		}
	} else if f.DepartmentID != "" {
		kc = kc.And(expression.Key(skName).BeginsWith(f.DepartmentID + "#"))
	}
	b := expression.NewBuilder().WithKeyCondition(kc)
	if filter != nil {
		b = b.WithFilter(*filter)
	}
	expr, err := b.Build()
	if err != nil {
		return nil, "", err
	}
	in := &dynamodb.QueryInput{TableName: &p.store.table, IndexName: aws.String(index), Limit: aws.Int32(int32(limit)),
		KeyConditionExpression: expr.KeyCondition(), FilterExpression: expr.Filter(),
		ExpressionAttributeNames: expr.Names(), ExpressionAttributeValues: expr.Values()}
	if cursor != "" {
		var c employeeCursor
		raw, err := base64.RawURLEncoding.DecodeString(cursor)
		if err != nil || json.Unmarshal(raw, &c) != nil || !strings.HasPrefix(c.SK, "EMP#") || c.IdxSK == "" {
			return nil, "", badCursor()
		}
		in.ExclusiveStartKey = map[string]types.AttributeValue{
			"PK": &types.AttributeValueMemberS{Value: orgPK(orgID)}, "SK": &types.AttributeValueMemberS{Value: c.SK},
			pkName: &types.AttributeValueMemberS{Value: pk}, skName: &types.AttributeValueMemberS{Value: c.IdxSK}}
	}
	res, err := p.db.Query(ctx, in)
	if err != nil {
		return nil, "", awserr.Wrap("list employees", err)
	}
	var its []employeeItem
	if err := attributevalue.UnmarshalListOfMaps(res.Items, &its); err != nil {
		return nil, "", err
	}
	out := make([]publication.PublishedEmployee, len(its))
	for i, it := range its {
		out[i] = fromEmployeeItem(it)
	}
	next := ""
	if res.LastEvaluatedKey != nil {
		sk, _ := res.LastEvaluatedKey["SK"].(*types.AttributeValueMemberS)
		isk, _ := res.LastEvaluatedKey[skName].(*types.AttributeValueMemberS)
		if sk != nil && isk != nil {
			raw, _ := json.Marshal(employeeCursor{SK: sk.Value, IdxSK: isk.Value})
			next = base64.RawURLEncoding.EncodeToString(raw)
		}
	}
	return out, next, nil
}

func badCursor() error {
	return &domain.Error{Code: domain.CodeValidationFailed, Detail: "the cursor is invalid",
		Fields: []domain.FieldError{{Field: "cursor", Code: "cursor_invalid", Message: "use a nextCursor value as given"}}}
}

// Employee reads one employee, published or not.
func (p *Publication) Employee(ctx context.Context, orgID, externalID string) (publication.PublishedEmployee, error) {
	var it employeeItem
	if err := p.store.get(ctx, empKey(orgID, externalID), &it); err != nil {
		if errors.Is(err, domain.ErrNotFound) {
			return publication.PublishedEmployee{}, domain.ErrNotFound
		}
		return publication.PublishedEmployee{}, err
	}
	return fromEmployeeItem(it), nil
}

package dynamostore

import (
	"context"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"

	"github.com/kabinet/kabinet/shared/awserr"
	"github.com/kabinet/kabinet/shared/domain"
	"github.com/kabinet/kabinet/shared/publication"
)

// The publication's snapshots and its lock: part of the publication port
// (publication.Store), kept apart from the rows it writes.

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

// snapshotRetention keeps snapshot records for a week after they expire.
const snapshotRetention = 7 * 24 * time.Hour

// BeginSnapshot stores a new open snapshot.
func (p *Publication) BeginSnapshot(ctx context.Context, s publication.Snapshot) error {
	return p.t.putItem(ctx, "begin snapshot", snapshotItem{key: snapKey(s.OrganizationID, s.ID), Type: "Snapshot", ID: s.ID, Status: s.Status,
		CreatedAt: ms(s.CreatedAt), ExpiresAt: ms(s.ExpiresAt), TTL: ttl(s.ExpiresAt.Add(snapshotRetention))}, notExists())
}

// Snapshot reads a snapshot of the organization.
func (p *Publication) Snapshot(ctx context.Context, orgID, id string) (publication.Snapshot, error) {
	var it snapshotItem
	if err := p.t.get(ctx, snapKey(orgID, id), &it); err != nil {
		return publication.Snapshot{}, err
	}
	return publication.Snapshot{ID: it.ID, OrganizationID: orgID, Status: it.Status, Chunks: it.Chunks,
		CreatedAt: fromMS(it.CreatedAt), ExpiresAt: fromMS(it.ExpiresAt)}, nil
}

// AddSnapshotChunk records the rows a chunk named and counts the chunk.
func (p *Publication) AddSnapshotChunk(ctx context.Context, orgID, snapshotID, chunkID string, seen []publication.RowRef) error {
	it := chunkItem{key: chunkKey(orgID, snapshotID, chunkID), Type: "SnapshotChunk",
		TTL: ttl(time.Now().Add(snapshotRetention + 24*time.Hour))}
	for _, r := range seen {
		switch r.Kind {
		case publication.KindEmployee:
			it.Employees = append(it.Employees, r.ExternalID)
		case publication.KindDepartment:
			it.Departments = append(it.Departments, r.ExternalID)
		}
	}
	if err := p.t.putItem(ctx, "add snapshot chunk", it, nil); err != nil {
		return err
	}
	// The count is informational: the chunk item above is what the commit
	// reads, so a lost increment costs nothing (and two plain writes cost
	// half a transaction's).
	_, err := p.t.updateItem(ctx, "count snapshot chunk", snapKey(orgID, snapshotID),
		expression.Add(expression.Name("Chunks"), expression.Value(1)), nil, "")
	return err
}

// SnapshotSeen gathers the rows every chunk of the snapshot named.
func (p *Publication) SnapshotSeen(ctx context.Context, orgID, snapshotID string) (map[publication.RowRef]bool, error) {
	its, err := all[chunkItem](ctx, p.t, prefixQuery(orgID, chunkPrefix(snapshotID)), 0)
	if err != nil {
		return nil, err
	}
	seen := map[publication.RowRef]bool{}
	for _, it := range its {
		for _, id := range it.Employees {
			seen[publication.RowRef{Kind: publication.KindEmployee, ExternalID: id}] = true
		}
		for _, id := range it.Departments {
			seen[publication.RowRef{Kind: publication.KindDepartment, ExternalID: id}] = true
		}
	}
	return seen, nil
}

// Published lists every published department and employee, reading only
// their keys and status.
func (p *Publication) Published(ctx context.Context, orgID string) ([]publication.RowRef, error) {
	var out []publication.RowRef
	for _, kind := range []struct{ prefix, kind string }{{"DEPT#", publication.KindDepartment}, {"EMP#", publication.KindEmployee}} {
		its, err := all[struct {
			ExternalID string
			Published  bool
		}](ctx, p.t, prefixQuery(orgID, kind.prefix, "ExternalID", "Published"), 0)
		if err != nil {
			return nil, err
		}
		for _, it := range its {
			if it.Published {
				out = append(out, publication.RowRef{Kind: kind.kind, ExternalID: it.ExternalID})
			}
		}
	}
	return out, nil
}

// Unpublish marks rows unpublished and takes employees out of the indexes;
// their data stays. It returns the rows it could not update.
func (p *Publication) Unpublish(ctx context.Context, orgID string, rows []publication.RowRef, now time.Time) ([]publication.RowRef, error) {
	var mu sync.Mutex
	var failed []publication.RowRef
	err := p.t.parallel(ctx, len(rows), func(ctx context.Context, i int) error {
		r := rows[i]
		k := deptKey(orgID, r.ExternalID)
		upd := expression.Set(expression.Name("Published"), expression.Value(false)).
			Set(expression.Name("UpdatedAt"), expression.Value(ms(now)))
		if r.Kind == publication.KindEmployee {
			k = empKey(orgID, r.ExternalID)
			upd = upd.Remove(expression.Name("GSI2PK")).Remove(expression.Name("GSI2SK")).
				Remove(expression.Name("GSI3PK")).Remove(expression.Name("GSI3SK"))
		}
		_, err := p.t.updateItem(ctx, "unpublish", k, upd, exists(), "")
		switch {
		case err == nil || isStale(err):
			// Gone meanwhile: nothing to unpublish.
		case awserr.Transient(err):
			mu.Lock()
			failed = append(failed, r)
			mu.Unlock()
		default:
			return err
		}
		return nil
	})
	return failed, err
}

// CloseSnapshot marks an open snapshot committed.
func (p *Publication) CloseSnapshot(ctx context.Context, orgID, id string, now time.Time) error {
	_, err := p.t.updateItem(ctx, "close snapshot", snapKey(orgID, id),
		expression.Set(expression.Name("Status"), expression.Value(publication.SnapshotCommitted)).
			Set(expression.Name("CommittedAt"), expression.Value(ms(now))),
		cond(expression.Name("Status").Equal(expression.Value(publication.SnapshotOpen))), "")
	if isStale(err) {
		return domain.NewError(domain.CodeSnapshotClosed, "the snapshot is already committed")
	}
	return err
}

// Lock takes the organization's publication lock unless another owner holds
// an unexpired one.
func (p *Publication) Lock(ctx context.Context, orgID, owner string, until, now time.Time) (bool, error) {
	err := p.t.putItem(ctx, "lock publication", struct {
		key
		Owner string
		Until int64
		TTL   int64 `dynamodbav:"ttl"`
	}{lockKey(orgID), owner, ms(until), ttl(until.Add(time.Hour))},
		cond(expression.AttributeNotExists(expression.Name("PK")).Or(expression.Name("Until").LessThan(expression.Value(ms(now))))))
	if isStale(err) {
		return false, nil
	}
	return err == nil, err
}

// Unlock releases the lock if this owner still holds it.
func (p *Publication) Unlock(ctx context.Context, orgID, owner string) error {
	_, err := p.t.deleteItem(ctx, "unlock publication", lockKey(orgID),
		cond(expression.Name("Owner").Equal(expression.Value(owner))), "")
	if isStale(err) {
		return nil // another owner's (or nobody's) now
	}
	return err
}

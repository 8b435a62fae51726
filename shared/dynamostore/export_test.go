package dynamostore

import (
	"context"

	"github.com/kabinet/kabinet/shared/cabinets"
)

// CountByQuery is the counts call as it was before the counts were kept:
// one COUNT query per state on that state's GSI4 partition, which reads
// every cabinet of the organization (COUNT spares the transfer, not the
// read units). BenchmarkCabinetCounts measures it beside CabinetCounts.
func (s *Cabinets) CountByQuery(ctx context.Context, orgID string) (map[cabinets.State]int, error) {
	out := make(map[cabinets.State]int, len(cabinets.States))
	for _, st := range cabinets.States {
		n, err := s.t.count(ctx, query{op: "count cabinets", index: "GSI4", pk: cabStatePK(orgID, st)})
		if err != nil {
			return nil, err
		}
		out[st] = n
	}
	return out, nil
}

// Package apptest holds the in-memory world that use-case tests build on:
// the fake of every port on one shared "table", handed to the builders of
// shared/app as their Stores, as the DynamoDB repositories share one table.
package apptest

import (
	"github.com/kabinet/kabinet/shared/app"
	"github.com/kabinet/kabinet/shared/cabinets/cabinetstest"
	"github.com/kabinet/kabinet/shared/idempotency/idempotencytest"
	"github.com/kabinet/kabinet/shared/notices/noticestest"
	"github.com/kabinet/kabinet/shared/notify/notifytest"
	"github.com/kabinet/kabinet/shared/onboarding/onboardingtest"
	"github.com/kabinet/kabinet/shared/publication/publicationtest"
	"github.com/kabinet/kabinet/shared/signatures/signaturestest"
	"github.com/kabinet/kabinet/shared/usage/usagetest"
)

// World is the fakes on one table. The requests fake stays inside
// shared/requests, whose tests alone use it; a World's Stores have no
// Requests store, so publication built on it does not re-route approvals.
type World struct {
	Outbox      *notifytest.Outbox
	People      *onboardingtest.Store
	Limiter     *onboardingtest.Limiter
	Publication *publicationtest.Store
	Cabinets    *cabinetstest.Store
	Notices     *noticestest.Store
	Idempotency *idempotencytest.Idempotency
	Signatures  *signaturestest.Store
	Usage       *usagetest.Store
}

// NewWorld returns an empty world. A test package shares one among its
// fixtures, as they shared the emulator's table, so that a test can check
// that one organization cannot reach another's records.
func NewWorld() *World {
	w := &World{Outbox: notifytest.NewOutbox(), Limiter: onboardingtest.NewLimiter(), Publication: publicationtest.New(),
		Idempotency: idempotencytest.NewIdempotency()}
	w.People = onboardingtest.New(w.Outbox)
	w.Cabinets = cabinetstest.New(w.People, w.Publication)
	w.Notices = noticestest.New(w.Cabinets)
	w.Signatures = signaturestest.New(w.People)
	w.Usage = usagetest.New(w.People, w.Cabinets, w.Outbox)
	return w
}

// Stores are the world's repositories, as the builders take them.
func (w *World) Stores() app.Stores {
	return app.Stores{People: w.People, Limiter: w.Limiter, Cabinets: w.Cabinets, EDO: w.Cabinets, Publication: w.Publication,
		Notices: w.Notices, Outbox: w.Outbox, Ledger: w.Outbox, Idempotency: w.Idempotency, Signatures: w.Signatures, Usage: w.Usage}
}

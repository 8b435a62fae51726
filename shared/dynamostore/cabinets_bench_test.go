package dynamostore_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/smithy-go/middleware"

	"github.com/kabinet/kabinet/infra/testenv"
	"github.com/kabinet/kabinet/shared/cabinets"
	"github.com/kabinet/kabinet/shared/domain"
	"github.com/kabinet/kabinet/shared/dynamostore"
	"github.com/kabinet/kabinet/shared/platform"
	"github.com/kabinet/kabinet/shared/publication"
	"github.com/kabinet/kabinet/shared/sqsqueue"
)

// The cabinet benchmarks measure what the invitation job and a bulk action
// cost in DynamoDB and SQS requests against the minimum their design allows,
// on moto, through the real adapters (dynamostore.Cabinets, sqsqueue.Queue
// on the template's notifications queue).

// ---- read and SQS accounting -------------------------------------------

// readCounter counts the items DynamoDB returns: every item of a Query or
// Scan page, the item of a GetItem that found one, every item of a
// BatchGetItem response. It counts once per operation (after the SDK's
// retries), since a retried read returns its items once.
type readCounter struct{ items atomic.Int64 }

func (r *readCounter) add(stack *middleware.Stack) error {
	return stack.Initialize.Add(middleware.InitializeMiddlewareFunc("CountReadItems",
		func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
			out, md, err := next.HandleInitialize(ctx, in)
			var n int
			switch o := out.Result.(type) {
			case *dynamodb.QueryOutput:
				if o != nil {
					n = len(o.Items)
				}
			case *dynamodb.ScanOutput:
				if o != nil {
					n = len(o.Items)
				}
			case *dynamodb.GetItemOutput:
				if o != nil && o.Item != nil {
					n = 1
				}
			case *dynamodb.BatchGetItemOutput:
				if o != nil {
					for _, its := range o.Responses {
						n += len(its)
					}
				}
			}
			r.items.Add(int64(n))
			return out, md, err
		}), middleware.After)
}

// sqsCounter counts SQS requests per operation (every HTTP attempt, as
// ddbCounter does) and the messages SendMessageBatch calls carry.
type sqsCounter struct {
	mu       sync.Mutex
	requests map[string]int64
	messages int64
}

type sqsCounts struct {
	batches  int64 // SendMessageBatch requests
	others   int64 // any other SQS request
	messages int64
}

func (c *sqsCounter) add(stack *middleware.Stack) error {
	err := stack.Initialize.Add(middleware.InitializeMiddlewareFunc("CountMessages",
		func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
			if p, ok := in.Parameters.(*sqs.SendMessageBatchInput); ok {
				c.mu.Lock()
				c.messages += int64(len(p.Entries))
				c.mu.Unlock()
			}
			return next.HandleInitialize(ctx, in)
		}), middleware.After)
	if err != nil {
		return err
	}
	return stack.Finalize.Add(middleware.FinalizeMiddlewareFunc("CountSQSRequests",
		func(ctx context.Context, in middleware.FinalizeInput, next middleware.FinalizeHandler) (middleware.FinalizeOutput, middleware.Metadata, error) {
			op := awsmiddleware.GetOperationName(ctx)
			c.mu.Lock()
			c.requests[op]++
			c.mu.Unlock()
			return next.HandleFinalize(ctx, in)
		}), middleware.After)
}

func (c *sqsCounter) snapshot() sqsCounts {
	c.mu.Lock()
	defer c.mu.Unlock()
	s := sqsCounts{messages: c.messages}
	for op, n := range c.requests {
		if op == "SendMessageBatch" {
			s.batches += n
		} else {
			s.others += n
		}
	}
	return s
}

func (c *sqsCounter) since(before sqsCounts) sqsCounts {
	now := c.snapshot()
	return sqsCounts{batches: now.batches - before.batches, others: now.others - before.others, messages: now.messages - before.messages}
}

func (s sqsCounts) String() string {
	return fmt.Sprintf("SQS SendMessageBatch=%d other=%d (messages=%d)", s.batches, s.others, s.messages)
}

// ---- the environment ----------------------------------------------------

type cabinetBenchEnv struct {
	*benchEnv
	reads    *readCounter
	sqsCount *sqsCounter
	queue    *sqsqueue.Queue
}

// newCabinetBenchEnv is newBenchEnv with its DynamoDB client also counting
// the items read, and the notifications queue of the template (an
// sqsqueue.Queue on moto's SQS) with its requests counted.
func newCabinetBenchEnv(b *testing.B) *cabinetBenchEnv {
	b.Helper()
	env := testenv.Get(b)
	e := &cabinetBenchEnv{benchEnv: newBenchEnv(b), reads: &readCounter{}, sqsCount: &sqsCounter{requests: map[string]int64{}}}
	e.db = dynamodb.NewFromConfig(env.AWS, func(o *dynamodb.Options) { o.APIOptions = append(o.APIOptions, e.counter.add, e.reads.add) })
	url := env.QueueURL("NotificationsQueue")
	if url == "" {
		b.Fatal("testenv provisioned no NotificationsQueue")
	}
	client := sqs.NewFromConfig(env.AWS, func(o *sqs.Options) { o.APIOptions = append(o.APIOptions, e.sqsCount.add) })
	e.queue = sqsqueue.New(client, url)
	// Nothing in this package consumes the queue: leave it empty for
	// whatever runs next on the same moto server.
	b.Cleanup(func() { _, _ = client.PurgeQueue(context.Background(), &sqs.PurgeQueueInput{QueueUrl: &url}) })
	return e
}

// cabinetService is the cabinet use cases the cabinets and invitation job
// functions build, on table, with their store.
func (e *cabinetBenchEnv) cabinetService(table string) *cabinetBench {
	store := dynamostore.NewCabinets(e.db, table)
	cfg := cabinets.Config{PublicBaseURL: "https://kabinet.example"}
	job, err := cabinets.NewInvitationJob(store, e.queue, platform.SystemClock{}, e.ids, cfg)
	if err != nil {
		panic(err)
	}
	admin, err := cabinets.NewAdministration(store, e.queue, platform.SystemClock{}, e.ids, cfg)
	if err != nil {
		panic(err)
	}
	return &cabinetBench{Store: store, InvitationJob: job, Administration: admin}
}

type cabinetBench struct {
	Store *dynamostore.Cabinets
	*cabinets.InvitationJob
	*cabinets.Administration
}

// createOrganization writes a connected organization (the cabinet use cases
// read its name for the invitations) with the given cabinet settings.
func (e *cabinetBenchEnv) createOrganization(b *testing.B, table string, st cabinets.Settings) string {
	b.Helper()
	ctx := context.Background()
	orgID, personID := e.ids.New(), e.ids.New()
	now := time.Now()
	org := domain.Organization{ID: orgID, Name: "ООО «Стройтрест»", INN: "7707083893", KPP: "770701001",
		Director: domain.Director{FullName: "Иванов Иван Иванович", Position: "Генеральный директор"}, ResponsiblePersonID: personID, CreatedAt: now}
	person := domain.Person{ID: personID, OrganizationID: orgID, Role: domain.RoleResponsiblePerson, FullName: "Петрова Анна Сергеевна",
		Phone: "+79161234567", Email: domain.Email("hr." + strings.ToLower(orgID) + "@stroytrest.ru"), CreatedAt: now}
	key := domain.APIKey{ID: e.ids.New(), OrganizationID: orgID, Prefix: "kb_bench", SecretHash: "bench", CreatedAt: now}
	if err := dynamostore.New(e.db, table).CreateOrganization(ctx, org, person, key); err != nil {
		b.Fatal(err)
	}
	st.OrganizationID, st.UpdatedAt = orgID, now
	if err := dynamostore.NewCabinets(e.db, table).SaveSettings(ctx, st, 0); err != nil {
		b.Fatal(err)
	}
	return orgID
}

// cabinetOf is the record publication keeps for a published employee row
// (valid mobile and e-mail: eligible), in state not_created.
func cabinetOf(orgID string, r publication.EmployeeRow, now time.Time) cabinets.Cabinet {
	mid := ""
	if r.MiddleName != nil {
		mid = *r.MiddleName
	}
	return cabinets.Cabinet{OrganizationID: orgID, EmployeeID: r.ExternalID,
		FullName: r.LastName + " " + r.FirstName + " " + mid, GreetingName: r.FirstName + " " + mid,
		Position: *r.Position, Phone: domain.Phone(*r.Phone), Email: domain.Email(*r.Email),
		Eligible: true, State: cabinets.NotCreated, UpdatedAt: now}
}

// ---- benchmarks -----------------------------------------------------------

// BenchmarkInvitationJob10k runs the invitation job once over an
// organization of 10,000 cabinets of which exactly 100 are due: 50 created
// while automatic invitations are on (due at once), 25 invitations past
// their expiry and 25 invitations due for their reminder. Another 1,000
// invitations are in the due index with their reminder due tomorrow, so the
// job must read the index by due time, not merely by presence. The rest are
// active, in error, created without an automatic invitation, or not created.
//
// The figure is the items the job reads (Query, GetItem and BatchGetItem
// items returned) per due cabinet; the goal is at most 1.1: the due
// cabinets themselves, plus the organization and its settings once.
//
// Each iteration uses a fresh table: the due index spans organizations, so
// on the shared table the job would also find other tests' due cabinets.
func BenchmarkInvitationJob10k(b *testing.B) {
	total := benchEmployees
	const (
		due     = 100
		maxRead = 1.1
		// What the job cannot do without: one Query page per due-index
		// shard (100 due fit one page of each), the organization and its
		// settings (GetItem each), one conditional PutItem per due cabinet.
		dueShards  = 4
		minDDB     = dueShards + 2 + due
		invited    = 50
		expired    = 25
		reminded   = 25
		minBatches = (invited + reminded + 9) / 10
	)
	// Every step-th cabinet is one of the due ones, at either size, so the
	// mix (and the bound) stays the same when the organization is smaller;
	// step is a multiple of 10, so they never fall in the j%10 cases below.
	step := total / due
	e := newCabinetBenchEnv(b)
	_, rows := organizationRows()
	ctx := context.Background()
	var itemsRead, ddbReqs, sqsBatches int64
	var worst float64
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		table := e.freshTable(b)
		st := cabinets.DefaultSettings("")
		st.AutoCreateCabinets, st.AutoSendInvitations = true, true
		org := e.createOrganization(b, table, st)
		svc := e.cabinetService(table)
		now := time.Now()
		day := 24 * time.Hour
		cs := make([]cabinets.Cabinet, total)
		kinds := map[string]int{}
		for j, r := range rows {
			c := cabinetOf(org, r, now.Add(-30*day))
			switch {
			case j%step == 0 && j/step < invited: // created by publication, automatic invitation due
				c.State, c.DueAt = cabinets.Created, now.Add(-10*time.Minute)
			case j%step == 0 && j/step < invited+expired: // reminded, then expired yesterday
				c.State, c.Channel, c.Delivery = cabinets.InvitationSent, domain.ChannelSMS, cabinets.DeliverySent
				c.InvitationID, c.TokenHash = e.ids.New(), "hash-"+r.ExternalID
				c.InvitedAt, c.RemindedAt, c.ExpiresAt = now.Add(-8*day), now.Add(-5*day), now.Add(-day)
				c.DueAt = c.ExpiresAt
			case j%step == 0: // invited four days ago, reminder due since yesterday
				c.State, c.Channel, c.Delivery = cabinets.InvitationSent, domain.ChannelSMS, cabinets.DeliverySent
				c.InvitationID, c.TokenHash = e.ids.New(), "hash-"+r.ExternalID
				c.InvitedAt, c.ExpiresAt = now.Add(-4*day), now.Add(3*day)
				c.DueAt = c.InvitedAt.Add(3 * day)
			case j%10 == 1: // invited yesterday: in the due index, reminder due in two days
				c.State, c.Channel, c.Delivery = cabinets.InvitationSent, domain.ChannelEmail, cabinets.DeliverySent
				c.InvitationID, c.TokenHash = e.ids.New(), "hash-"+r.ExternalID
				c.InvitedAt, c.ExpiresAt = now.Add(-day), now.Add(6*day)
				c.DueAt = c.InvitedAt.Add(3 * day)
			case j%10 == 2:
				c.State, c.PersonID, c.ActivatedAt = cabinets.Active, e.ids.New(), now.Add(-20*day)
			case j%10 == 3:
				c.State = cabinets.Failed
				c.Reasons = []cabinets.Reason{{Code: cabinets.ReasonInvitationExpired, Message: "the invitation expired before it was accepted; send a new one"}}
			case j%10 == 4: // created before automatic invitations were turned on
				c.State = cabinets.Created
			}
			kinds[string(c.State)]++
			if !c.DueAt.IsZero() && !c.DueAt.After(now) {
				kinds["due"]++
			}
			cs[j] = c
		}
		if kinds["due"] != due {
			b.Fatalf("set up %d due cabinets, want %d", kinds["due"], due)
		}
		_, unwritten, err := svc.Store.PutNewCabinets(ctx, cs, time.Now().Add(5*time.Minute))
		if err != nil || len(unwritten) > 0 {
			b.Fatalf("put cabinets: %v, %d unwritten", err, len(unwritten))
		}
		b.Logf("organization %s: %d cabinets %v", org, total, kinds)

		ddbBefore, readsBefore, sqsBefore := e.counter.snapshot(), e.reads.items.Load(), e.sqsCount.snapshot()
		b.StartTimer()
		start := time.Now()
		rep, err := svc.RunJob(ctx, time.Now().Add(110*time.Second))
		elapsed := time.Since(start)
		b.StopTimer()
		if err != nil {
			b.Fatal(err)
		}
		ddb, read, sq := e.counter.since(ddbBefore), e.reads.items.Load()-readsBefore, e.sqsCount.since(sqsBefore)
		ratio := float64(read) / due
		b.Logf("job: %.2fs, report %+v; items read %d (%.3f per due cabinet); DynamoDB %s (design minimum %d); %s (minimum %d)",
			elapsed.Seconds(), rep, read, ratio, ddb, minDDB, sq, minBatches)
		if rep.Read != due || rep.Invited != invited || rep.Expired != expired || rep.Reminded != reminded || rep.Cleared != 0 || rep.Lost != 0 {
			b.Fatalf("job report %+v, want read %d: invited %d, expired %d, reminded %d, none cleared or lost", rep, due, invited, expired, reminded)
		}
		if ratio > maxRead {
			b.Fatalf("the job read %d items for %d due cabinets: %.3f per due cabinet, over %.1f", read, due, ratio, maxRead)
		}
		if sq.messages != invited+reminded {
			b.Fatalf("the job queued %d messages, want %d", sq.messages, invited+reminded)
		}
		// Nothing is left due: every due mark was moved or cleared.
		left, err := svc.Store.DueCabinets(ctx, time.Now(), 1000)
		if err != nil {
			b.Fatal(err)
		}
		if len(left) > 0 {
			b.Fatalf("after the job %d cabinets are still due (first %+v)", len(left), left[0])
		}
		itemsRead += read
		ddbReqs += ddb.total()
		sqsBatches += sq.batches
		worst = max(worst, ratio)
		b.StartTimer()
	}
	b.ReportMetric(worst, "items-read/due-cabinet")
	b.ReportMetric(float64(itemsRead)/float64(b.N), "items-read/run")
	b.ReportMetric(float64(ddbReqs)/float64(b.N), "ddb-requests/run")
	b.ReportMetric(minDDB, "ddb-requests-min/run")
	b.ReportMetric(float64(sqsBatches)/float64(b.N), "sqs-batches/run")
	b.ReportMetric(minBatches, "sqs-batches-min/run")
}

// BenchmarkBulkCreateAndInvite1k publishes 1,000 employees (their cabinets
// not created) and then invites them all with one bulk action, which
// creates and invites each cabinet in one write and queues the 1,000
// invitations. Beside it, the same employees of another organization get
// their cabinets created (no message) by one bulk action, so that the
// invitations' pace is measured against the creates' in one run.
//
// The design minimum of the invitation is: the organization, its cabinet
// settings and its notification preferences (quiet hours hold
// invitations; GetItem each), the cabinets and the employee records
// (ceil(n/100) BatchGetItem each) and the writes, cabinets.BulkChunk
// invitations (a cabinet and its message) and the update of the counts per
// state to a transaction: ceil(n/BulkChunk); and ceil(n/10)
// SendMessageBatch calls. The goal is within 5% of both.
func BenchmarkBulkCreateAndInvite1k(b *testing.B) {
	// The bulk invites the first chunk's employees: all 1,000, or 100 under
	// KABINET_BENCH_SIZE=small, still three transactions. The emulator
	// copies the whole table for every action of a transaction, so its time
	// grows with the table and the invitations, whatever their grouping.
	n := benchSize(benchChunk, 100)
	minDDB := float64(3 + (n+99)/100 + (n+99)/100 + (n+cabinets.BulkChunk-1)/cabinets.BulkChunk)
	minBatches := float64((n + 9) / 10)
	const slack = 1.05
	e := newCabinetBenchEnv(b)
	chunk := organizationChunks()[0] // 1,000 employees and the 50 departments
	empIDs := make([]string, n)
	for i, r := range chunk.Employees[:n] {
		empIDs[i] = r.ExternalID
	}
	ctx := context.Background()
	var ddbReqs, sqsBatches int64
	var worstDDB, worstBatches int64
	var invited, created time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		table := e.freshTable(b)
		org := e.createOrganization(b, table, cabinets.DefaultSettings(""))
		publishDeltas(b, e.service(dynamostore.NewPublication(e.db, table)), org, []publication.Batch{chunk}, "written")
		svc := e.cabinetService(table)
		if c, err := svc.Store.Cabinet(ctx, org, empIDs[0]); err != nil || c.State != cabinets.NotCreated || !c.Eligible {
			b.Fatalf("after publication the cabinet is %+v (%v), want eligible and not created", c, err)
		}

		// The creates' pace, on a table of the same size: the emulator's
		// transactions cost in proportion to the table.
		createTable := e.freshTable(b)
		other := e.createOrganization(b, createTable, cabinets.DefaultSettings(""))
		publishDeltas(b, e.service(dynamostore.NewPublication(e.db, createTable)), other, []publication.Batch{chunk}, "written")
		start := time.Now()
		if res, err := e.cabinetService(createTable).Bulk(ctx, other, cabinets.BulkInput{Action: cabinets.ActionCreate, EmployeeIDs: empIDs}); err != nil || res.Done != n {
			b.Fatalf("bulk create: done %d of %d (%v)", res.Done, n, err)
		}
		created += time.Since(start)

		ddbBefore, sqsBefore := e.counter.snapshot(), e.sqsCount.snapshot()
		b.StartTimer()
		start = time.Now()
		res, err := svc.Bulk(ctx, org, cabinets.BulkInput{Action: cabinets.ActionInvite, EmployeeIDs: empIDs})
		elapsed := time.Since(start)
		b.StopTimer()
		invited += elapsed
		if err != nil {
			b.Fatal(err)
		}
		ddb, sq := e.counter.since(ddbBefore), e.sqsCount.since(sqsBefore)
		b.Logf("bulk invite of %d: %.2fs; DynamoDB %s (design minimum %d); %s (minimum %d)",
			n, elapsed.Seconds(), ddb, int(minDDB), sq, int(minBatches))
		if res.Done != n || res.Failed != 0 {
			var firstFailed any
			for _, it := range res.Items {
				if !it.Done {
					firstFailed = it
					break
				}
			}
			b.Fatalf("bulk: done %d, failed %d (first %+v), want %d done", res.Done, res.Failed, firstFailed, n)
		}
		if sq.messages != int64(n) {
			b.Fatalf("queued %d messages, want %d", sq.messages, n)
		}
		if c, err := svc.Store.Cabinet(ctx, org, empIDs[n-1]); err != nil || c.State != cabinets.InvitationSent || c.TokenHash == "" || c.DueAt.IsZero() {
			b.Fatalf("after the bulk invite the cabinet is %+v (%v), want invited", c, err)
		}
		if float64(ddb.total()) > minDDB*slack {
			b.Fatalf("%d DynamoDB requests, over %.0f (the design minimum %.0f + 5%%): %s", ddb.total(), minDDB*slack, minDDB, ddb)
		}
		if float64(sq.batches) > minBatches*slack {
			b.Fatalf("%d SendMessageBatch calls for %d messages, over %.0f", sq.batches, sq.messages, minBatches*slack)
		}
		ddbReqs += ddb.total()
		sqsBatches += sq.batches
		worstDDB, worstBatches = max(worstDDB, ddb.total()), max(worstBatches, sq.batches)
		b.StartTimer()
	}
	b.ReportMetric(float64(n*b.N)/invited.Seconds(), "invitations/s")
	b.ReportMetric(float64(n*b.N)/created.Seconds(), "creates/s")
	b.ReportMetric(float64(ddbReqs)/float64(b.N), "ddb-requests/bulk")
	b.ReportMetric(float64(worstDDB)/minDDB, "ddb-requests/min-worst")
	b.ReportMetric(minDDB, "ddb-requests-min/bulk")
	b.ReportMetric(float64(sqsBatches)/float64(b.N), "sqs-batches/bulk")
	b.ReportMetric(float64(worstBatches)/minBatches, "sqs-batches/min-worst")
	b.ReportMetric(minBatches, "sqs-batches-min/bulk")
}

// BenchmarkBulkInviteWithinBudget invites the first chunk's 1,000
// employees (100 under KABINET_BENCH_SIZE=small) in one bulk action on the
// context an API request gets in CabinetsFunction: its 29 s invocation less
// the 2 s the router keeps to answer. The answer must come before the
// invocation's deadline whatever the emulator's pace; each employee is
// either invited or answered unavailable (to send again), and the
// invitations done are reported with their pace.
func BenchmarkBulkInviteWithinBudget(b *testing.B) {
	const invocation, answerMargin = 29 * time.Second, 2 * time.Second
	n := benchSize(benchChunk, 100)
	e := newCabinetBenchEnv(b)
	chunk := organizationChunks()[0]
	empIDs := make([]string, n)
	for i, r := range chunk.Employees[:n] {
		empIDs[i] = r.ExternalID
	}
	var done, unavailable int
	var elapsed time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		table := e.freshTable(b)
		org := e.createOrganization(b, table, cabinets.DefaultSettings(""))
		publishDeltas(b, e.service(dynamostore.NewPublication(e.db, table)), org, []publication.Batch{chunk}, "written")
		svc := e.cabinetService(table)
		b.StartTimer()
		start := time.Now()
		ctx, cancel := context.WithDeadline(context.Background(), start.Add(invocation-answerMargin))
		res, err := svc.Bulk(ctx, org, cabinets.BulkInput{Action: cabinets.ActionInvite, EmployeeIDs: empIDs})
		took := time.Since(start)
		cancel()
		b.StopTimer()
		if took >= invocation {
			b.Fatalf("bulk invite of %d answered after %.1fs, past the invocation's %s", n, took.Seconds(), invocation)
		}
		if err != nil {
			b.Fatalf("bulk answered %v after %.1fs", err, took.Seconds())
		}
		for _, it := range res.Items {
			switch {
			case it.Done:
				done++
				if c, err := svc.Store.Cabinet(context.Background(), org, it.EmployeeID); err != nil || c.State != cabinets.InvitationSent {
					b.Fatalf("%s answered done but is %+v (%v)", it.EmployeeID, c, err)
				}
			case it.Code == string(domain.CodeUnavailable):
				unavailable++
			default:
				b.Fatalf("%s: %s %s", it.EmployeeID, it.Code, it.Message)
			}
		}
		elapsed += took
		b.Logf("bulk invite of %d within %s: %d invited, %d unavailable, answered in %.1fs", n, invocation-answerMargin,
			res.Done, res.Failed, took.Seconds())
		b.StartTimer()
	}
	b.ReportMetric(float64(done)/float64(b.N), "invited/bulk")
	b.ReportMetric(float64(unavailable)/float64(b.N), "unavailable/bulk")
	b.ReportMetric(elapsed.Seconds()/float64(b.N), "s-to-answer/bulk")
}

// Command migrate (`make migrate`) runs the table's one-time data
// migrations. There is one: gsi11-department, which rewrites the GSI11 sort
// key of the requests awaiting a decision written before GSI11 was keyed by
// department ("<id>" becomes "<department>#<id>"), so that re-routing by
// department finds them. Run it once after deploying the version that keys
// GSI11 by department, once every function runs it (docs/operating.md).
//
// On AWS, give the table from the stack's outputs:
//
//	make migrate ARGS="-table <TableName> -rate 25"
//
// Against the local runner, set AWS_ENDPOINT_URL to the emulator address its
// banner prints; the table defaults to the template's as the runner names it.
//
// The run is idempotent (a second one rewrites nothing) and resumable: each
// page prints the token to go on from with -resume.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"

	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/kabinet/kabinet/infra/samtemplate"
	"github.com/kabinet/kabinet/shared/dynamostore"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr, func(ctx context.Context) (dynamostore.ScanAPI, error) {
		cfg, err := config.LoadDefaultConfig(ctx)
		if err != nil {
			return nil, err
		}
		return dynamodb.NewFromConfig(cfg), nil
	}))
}

// run parses args, runs the migration and says what it did; it returns
// the exit code: 0 done, 1 failed or requests left to rewrite, 2 bad usage.
func run(ctx context.Context, args []string, stdout, stderr io.Writer, client func(context.Context) (dynamostore.ScanAPI, error)) int {
	fs := flag.NewFlagSet("migrate", flag.ContinueOnError)
	fs.SetOutput(stderr)
	table := fs.String("table", "", "the table (the stack output TableName); locally, with AWS_ENDPOINT_URL set, the template's")
	name := fs.String("migration", "gsi11-department", "the migration to run (only gsi11-department)")
	page := fs.Int("page", 100, "items a Scan page reads (1-1000)")
	rate := fs.Float64("rate", 25, "at most this many DynamoDB requests a second (0: unbounded)")
	resume := fs.String("resume", "", "the token a stopped run printed last, to go on from there")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *name != "gsi11-department" {
		fmt.Fprintf(stderr, "migrate: unknown migration %q (there is gsi11-department)\n", *name)
		return 2
	}
	if *page < 1 || *page > 1000 || *rate < 0 {
		fmt.Fprintln(stderr, "migrate: -page is 1 to 1000, -rate 0 or more")
		return 2
	}
	if *table == "" {
		if os.Getenv("AWS_ENDPOINT_URL") == "" {
			fmt.Fprintln(stderr, "migrate: give -table (the stack output TableName), or set AWS_ENDPOINT_URL for a local run")
			return 2
		}
		*table = "Table"
		// The emulator takes any credentials; the SDK still wants some.
		if os.Getenv("AWS_ACCESS_KEY_ID") == "" {
			_ = os.Setenv("AWS_ACCESS_KEY_ID", "test")
			_ = os.Setenv("AWS_SECRET_ACCESS_KEY", "test")
		}
		if os.Getenv("AWS_REGION") == "" {
			_ = os.Setenv("AWS_REGION", samtemplate.LocalRegion())
		}
	}
	db, err := client(ctx)
	if err != nil {
		fmt.Fprintln(stderr, "migrate:", err)
		return 1
	}
	last := *resume
	line := func(rep dynamostore.AwaitingKeysReport) string {
		return fmt.Sprintf("scanned %d, rewritten %d, skipped %d (current %d, changed meanwhile %d), left %d; met again after the rewrite %d",
			rep.Scanned, rep.Rewritten, rep.Skipped, rep.Current, rep.Changed, rep.Left, rep.Again)
	}
	rep, err := dynamostore.NewAwaitingKeys(db, *table).Migrate(ctx, dynamostore.AwaitingKeysRun{
		PageSize: int32(*page), Rate: *rate, From: *resume,
		Page: func(rep dynamostore.AwaitingKeysReport, next string) {
			last = next
			if next != "" {
				fmt.Fprintf(stdout, "migrate: %s; -resume %s\n", line(rep), next)
			}
		}})
	if err != nil {
		fmt.Fprintf(stdout, "migrate: stopped: %s\n", line(rep))
		fmt.Fprintln(stderr, "migrate:", err)
		if last != "" {
			fmt.Fprintf(stderr, "migrate: go on with: make migrate ARGS=\"-table %s -resume %s\" (or run it again from the start: it is idempotent)\n", *table, last)
		}
		return 1
	}
	fmt.Fprintf(stdout, "migrate: done: %s\n", line(rep))
	if rep.Left > 0 {
		fmt.Fprintf(stderr, "migrate: %d request(s) were saved again with the old key by a function of before while this ran: run it again once the deployment is complete\n", rep.Left)
		return 1
	}
	return 0
}

package dynamostore_test

import "os"

// BenchSizeEnv names the size knob of the benchmarks: KABINET_BENCH_SIZE=small
// runs each on a small organization, so that `make test` runs every one once
// (-benchtime 1x) in little time and a broken benchmark fails CI; unset (as in
// `make bench`) they run at the sizes their names and goals give.
const benchSizeEnv = "KABINET_BENCH_SIZE"

var benchSmall = os.Getenv(benchSizeEnv) == "small"

// benchSize is full, or small under KABINET_BENCH_SIZE=small.
func benchSize(full, small int) int {
	if benchSmall {
		return small
	}
	return full
}

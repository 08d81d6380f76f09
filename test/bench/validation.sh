#!/usr/bin/env bash
# test/bench/validation.sh: "make bench" runs the data validation bench
# (test/validation/bench.sh, also "make validate-bench").
exec bash "$(dirname "$0")/../validation/bench.sh" "$@"

# pg_asof: PGXS build.
#
#   make && make install        build and install into the PostgreSQL that
#                               pg_config names (PG_CONFIG=... to choose)
#   make test                   the whole suite on a throwaway cluster
#                               (installs what it needs; see test/run.sh)
#   make test PG=17             the same on PostgreSQL 17 (or 18), in a
#                               cached Debian root (test/chroot.sh)
#   make installcheck           the regression and isolation suites against
#                               your own running server (PGHOST, PGPORT...)
#   make demo                   the flights demo (see README)
#   make replay                 production replayed on the flights, May and
#                               June (test/replay.sh, README)
#   make bench                  the benchmarks (see test/bench/)
#   make fuzz                   the guard's canary fuzzer, longer than in
#                               make test, plus sqlsmith (test/fuzz/README.md)
#   make validate-bench         the data validation bench (test/validation/)

EXTENSION  = pg_asof
# The version lives in the control file; everything else reads it.
EXTVERSION = $(shell sed -n "s/^default_version *= *'\\(.*\\)'/\\1/p" $(EXTENSION).control)

MODULE_big = pg_asof
OBJS = $(patsubst %.c,%.o,$(sort $(wildcard src/*.c)))

# The install script is assembled from the numbered parts in sql/; an
# upgrade script from the state changes in sql/upgrade/FROM--TO/ followed by
# every code part (sql/upgrade/README.md).  Released install scripts of
# earlier versions are kept, frozen, as sql/pg_asof--VERSION.sql.
SQL_PARTS  = $(sort $(wildcard sql/[0-9]*.sql))
SQL_CODE   = $(filter-out %_state.sql,$(SQL_PARTS))
UPGRADES   = $(notdir $(wildcard sql/upgrade/*--$(EXTVERSION)))
DATA_built = sql/$(EXTENSION)--$(EXTVERSION).sql \
	$(patsubst %,sql/$(EXTENSION)--%.sql,$(UPGRADES))
DATA       = $(filter-out $(DATA_built),$(wildcard sql/$(EXTENSION)--*.sql))

# Every file in test/sql is a regression test, run in name order; expected
# outputs live in the top-level expected/ directory.
REGRESS      = $(patsubst test/sql/%.sql,%,$(sort $(wildcard test/sql/*.sql)))
REGRESS_OPTS = --inputdir=test --load-extension=$(EXTENSION)
ISOLATION      = $(patsubst test/specs/%.spec,%,$(sort $(wildcard test/specs/*.spec)))
ISOLATION_OPTS = --inputdir=test --outputdir=. --load-extension=$(EXTENSION)

PG_CPPFLAGS = -DPG_ASOF_VERSION=\"$(EXTVERSION)\"
# -Werror only where warnings are ours to fix: "make test" and CI pass
# COPT=-Werror (test/cluster.sh); a user's plain "make" with a newer
# compiler warns but still builds.
PG_CFLAGS = -Wall -Wextra \
	-Wno-unused-parameter -Wno-sign-compare -Wno-missing-field-initializers

EXTRA_CLEAN = results output_iso regression.diffs regression.out fuzz-leaks

# The pg_config on PATH, as for any PGXS extension; PostgreSQL 15's Debian
# location when there is none.
PG_CONFIG ?= $(or $(shell command -v pg_config 2>/dev/null),\
	$(wildcard /usr/lib/postgresql/15/bin/pg_config),pg_config)
PGXS := $(shell $(PG_CONFIG) --pgxs 2>/dev/null)

# On a machine without the server headers PGXS is missing: "make test" still
# works (test/run.sh installs them first); everything else asks for them.
ifneq ($(wildcard $(PGXS)),)
include $(PGXS)
else
all install installcheck:
	@echo "PostgreSQL server headers not found (PG_CONFIG=$(PG_CONFIG)): run 'make test', or install your server's development package (Debian: postgresql-server-dev-NN) and set PG_CONFIG" >&2
	@exit 1
endif

sql/$(EXTENSION)--$(EXTVERSION).sql: $(SQL_PARTS)
	cat $^ > $@

sql/$(EXTENSION)--%--$(EXTVERSION).sql: $(SQL_CODE) sql/upgrade/%--$(EXTVERSION)/*.sql
	cat $(sort $(wildcard sql/upgrade/$*--$(EXTVERSION)/*.sql)) $(SQL_CODE) > $@

$(OBJS): $(wildcard src/*.h)

# "make test" runs on this machine's PostgreSQL 15; "make test PG=17" and
# "make test PG=18" in a cached Debian root carrying that major
# (test/chroot.sh).
.PHONY: test demo replay bench fuzz validate-bench
test:
	bash test/run.sh $(PG)

demo:
	bash test/demo.sh

replay:
	bash test/replay.sh

bench:
	bash test/bench/run.sh

fuzz:
	bash test/fuzz/fuzz.sh

validate-bench:
	bash test/validation/bench.sh

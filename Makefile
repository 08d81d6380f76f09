# pg_asof: PGXS build.
#
#   make && make install        build and install into the PostgreSQL that
#                               pg_config names (PG_CONFIG=... to choose)
#   make test                   the whole suite on a throwaway cluster
#                               (installs what it needs; see test/run.sh)
#   make installcheck           the regression and isolation suites against
#                               your own running server (PGHOST, PGPORT...)
#   make demo                   the flights demo (see README)
#   make bench                  the benchmarks (see test/bench/)

EXTENSION  = pg_asof
EXTVERSION = 0.1.0

MODULE_big = pg_asof
OBJS = $(patsubst %.c,%.o,$(sort $(wildcard src/*.c)))

# The install script is assembled from the numbered parts in sql/.
SQL_PARTS  = $(sort $(filter-out sql/$(EXTENSION)--%,$(wildcard sql/*.sql)))
DATA_built = sql/$(EXTENSION)--$(EXTVERSION).sql

# Every file in test/sql is a regression test, run in name order; expected
# outputs live in the top-level expected/ directory.
REGRESS      = $(patsubst test/sql/%.sql,%,$(sort $(wildcard test/sql/*.sql)))
REGRESS_OPTS = --inputdir=test --load-extension=$(EXTENSION)
ISOLATION      = $(patsubst test/specs/%.spec,%,$(sort $(wildcard test/specs/*.spec)))
ISOLATION_OPTS = --inputdir=test --outputdir=. --load-extension=$(EXTENSION)

PG_CPPFLAGS = -DPG_ASOF_VERSION=\"$(EXTVERSION)\"
PG_CFLAGS = -Wall -Wextra -Werror \
	-Wno-unused-parameter -Wno-sign-compare -Wno-missing-field-initializers

EXTRA_CLEAN = results output_iso regression.diffs regression.out

PG_CONFIG ?= $(shell test -x /usr/lib/postgresql/15/bin/pg_config && \
	echo /usr/lib/postgresql/15/bin/pg_config || echo pg_config)
PGXS := $(shell $(PG_CONFIG) --pgxs 2>/dev/null)

# On a machine without the server headers PGXS is missing: "make test" still
# works (test/run.sh installs them first); everything else asks for them.
ifneq ($(wildcard $(PGXS)),)
include $(PGXS)
else
all install installcheck:
	@echo "PostgreSQL server headers not found: run 'make test', or apt-get install postgresql-server-dev-15" >&2
	@exit 1
endif

sql/$(EXTENSION)--$(EXTVERSION).sql: $(SQL_PARTS)
	cat $^ > $@

$(OBJS): $(wildcard src/*.h)

.PHONY: test demo bench
test:
	bash test/run.sh

demo:
	bash test/demo.sh

bench:
	bash test/bench/run.sh

# The two commands of the README: `make serve` and `make test`. Everything installs into .venv.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PG_TEST_URL ?= postgresql+psycopg://postgres@127.0.0.1:5432/test

.PHONY: setup serve test test-sqlite test-postgres bench docs docs-serve browser docker-test compose-test scale-test

setup: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml client/pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]' -e ./client
	touch $@

# Embedded default: SQLite file in ./data, the bundled model in ./models, loopback only.
HOST ?= 127.0.0.1
PORT ?= 8000
serve: setup
	$(VENV)/bin/escalation serve --host $(HOST) --port $(PORT)

test: test-sqlite test-postgres

test-sqlite: setup
	$(PY) -m pytest

test-postgres: setup
	@pg_isready -q -h 127.0.0.1 -p 5432 || pg_ctlcluster --skip-systemctl-redirect $$(ls /etc/postgresql) main start
	ESCALATION_TEST_DATABASE_URL=$(PG_TEST_URL) $(PY) -m pytest

# Figures beside baselines measured in the same run (bench/RESULTS.md). HTTP load comes from wrk (Debian).
BACKFILL_EVENTS ?= 1000000
bench: setup
	@command -v wrk >/dev/null || apt-get install -y wrk || (echo "wrk is needed: apt-get install -y wrk" >&2; exit 1)
	@pg_isready -q -h 127.0.0.1 -p 5432 || pg_ctlcluster --skip-systemctl-redirect $$(ls /etc/postgresql) main start
	cd bench && BENCH_PG_URL=$(PG_TEST_URL) ../$(PY) bench_http.py
	cd bench && BENCH_PG_URL=$(PG_TEST_URL) ../$(PY) bench_ingest.py
	cd bench && BENCH_PG_URL=$(PG_TEST_URL) ../$(PY) bench_backfill.py --events $(BACKFILL_EVENTS)
	$(PY) bench/bench_scoring.py
	cd bench && BENCH_PG_URL=$(PG_TEST_URL) ../$(PY) bench_series.py
	cd bench && BENCH_PG_URL=$(PG_TEST_URL) ../$(PY) bench_import.py

# The documentation site (docs/, mkdocs.yml): built with every link checked, or served to read.
docs: setup
	$(PY) -m mkdocs build --strict

docs-serve: setup
	$(PY) -m mkdocs serve -a 127.0.0.1:8001

# Debian's chromium for the dashboard's browser test (tests/dashboard/test_browser.py); installed only if missing.
browser:
	@command -v chromium >/dev/null || { [ "$$(id -u)" = 0 ] || { echo "chromium is missing and installing it needs root: run 'sudo make browser' or 'apt-get install chromium' as root" >&2; exit 1; }; apt-get update && apt-get install -y chromium; }

# Build the image, run it with a bootstrap key, and check it end to end (needs a working `docker`;
# on this machine: ../shared/tools/docker-here.sh).
docker-test:
	bash tests/docker/test_image.sh

# compose.yaml (service + PostgreSQL) brought up and checked; needs docker and docker-compose.
compose-test:
	bash tests/docker/test_compose.sh

# compose.scale.yaml: two replicas behind HAProxy on one PostgreSQL, 4 writers and a feed poller through
# the balancer; nothing lost, nothing twice, the feed exact (docs/deployment.md, "Scaling out").
scale-test:
	bash tests/docker/test_scale_out.sh

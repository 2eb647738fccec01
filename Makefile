# The two commands of the README: `make serve` and `make test`. Everything installs into .venv.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PG_TEST_URL ?= postgresql+psycopg://postgres@127.0.0.1:5432/test

.PHONY: setup serve test test-sqlite test-postgres bench

setup: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml client/pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]' -e ./client
	touch $@

# Embedded default: SQLite file in ./data, the bundled model in ./models, loopback only.
serve: setup
	$(VENV)/bin/escalation serve --host 127.0.0.1 --port 8000

test: test-sqlite test-postgres

test-sqlite: setup
	$(PY) -m pytest

test-postgres: setup
	@pg_isready -q -h 127.0.0.1 -p 5432 || pg_ctlcluster --skip-systemctl-redirect $$(ls /etc/postgresql) main start
	ESCALATION_TEST_DATABASE_URL=$(PG_TEST_URL) $(PY) -m pytest

bench: setup
	$(PY) bench/bench_ingest.py
	$(PY) bench/bench_poll.py
	$(PY) bench/bench_scoring.py

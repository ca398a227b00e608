# `make run` runs the product; `make test` runs the whole test suite. Both set themselves up.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python

.PHONY: run test lint deps system-deps backup restore

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet ".[test]"
	touch $@

# French translations, compiled from locale/fr/LC_MESSAGES/django.po at install (Babel; the .mo is not committed).
MO := locale/fr/LC_MESSAGES/django.mo
$(MO): locale/fr/LC_MESSAGES/django.po $(VENV)/.installed
	$(PY) locale/translate.py compile

deps: $(VENV)/.installed $(MO)

# Debian's Chromium for the browser tests, poppler-utils (pdftotext) to read briefs back, gettext (xgettext) for
# the test that every string to translate has its French, haproxy in front of the two nodes of
# tests/hardening/test_two_nodes.py.
system-deps:
	@command -v chromium >/dev/null && command -v pdftotext >/dev/null && command -v xgettext >/dev/null && \
	  { command -v haproxy || test -x /usr/sbin/haproxy; } >/dev/null || \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium poppler-utils gettext haproxy >/dev/null)

run: deps
	$(PY) -m coalition.run

# `make run`'s data (DATABASE_URL, else the embedded PostgreSQL, started if it is not running): `make backup` writes
# .local/backups/coalition-<UTC moment>.dump (or FILE=...); `make restore FILE=...` loads one into an empty database.
BACKUP_DIR ?= .local/backups
RUN_KEY = DJANGO_SECRET_KEY="$${DJANGO_SECRET_KEY:-$$(cat .local/secret_key 2>/dev/null || echo backup-only)}"
backup: deps
	$(RUN_KEY) $(PY) manage.py backup "$(or $(FILE),$(BACKUP_DIR)/coalition-$$(date -u +%Y%m%dT%H%M%SZ).dump)"

restore: deps
	@test -n "$(FILE)" || { echo "usage: make restore FILE=path/to/backup.dump" >&2; exit 2; }
	$(RUN_KEY) $(PY) manage.py restore "$(FILE)"

test: deps system-deps
	$(PY) -m ruff check .
	COALITION_TESTING=true $(PY) manage.py makemigrations --check --dry-run
	COALITION_TESTING=true $(PY) -m mypy accounts places pledges meetings coalition idempotency dashboard imports utilities backups outcomes
	$(PY) -m pytest $(PYTEST_ARGS)

lint: deps
	$(PY) -m ruff check .

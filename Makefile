# The two commands a new machine needs: `make run` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
export FLASK_APP := forum_app
HOST ?= 127.0.0.1
PORT ?= 5000

.PHONY: run test test-postgres setup install translations messages db chromium vendor fonts bench clean

run: setup
	@echo ""
	@echo "  forum_app: http://$(HOST):$(PORT)/"
	@echo "  Demo organiser: $$($(BIN)/python -c 'from forum_app.cli import DEMO_ORGANISER_EMAIL as e, DEMO_ORGANISER_PASSWORD as p; print(e, "/", p)')"
	@echo "  Staff login: http://$(HOST):$(PORT)/login"
	@echo ""
	$(BIN)/flask run --host $(HOST) --port $(PORT)

test: setup chromium
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# The same suite on PostgreSQL: a throwaway server (scripts/postgres-local.sh; Debian's package is
# installed when missing, as root) in a temporary folder, stopped and removed afterwards.
PG_TEST_PORT ?= 55499
test-postgres: setup chromium
	@pgdir=$$(mktemp -d /tmp/forum-test-pg.XXXXXX); \
	trap 'scripts/postgres-local.sh stop "$$pgdir" >/dev/null 2>&1; rm -rf "$$pgdir"' EXIT; \
	url=$$(scripts/postgres-local.sh start "$$pgdir" $(PG_TEST_PORT)) && \
	echo "PostgreSQL test database: $$url" && \
	TEST_DATABASE_URL="$$url" $(BIN)/python -m pytest $(PYTEST_ARGS)

setup: install translations db vendor fonts

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@

# Compile the committed catalogues (translations/<lang>/LC_MESSAGES/messages.po) to the
# git-ignored .mo files the app reads. Stops on a missing catalogue, a .po that does not parse
# strictly, or a translation whose placeholders differ from its msgid (pybabel compile's check).
CATALOGUES = $(wildcard translations/*/LC_MESSAGES/messages.po)
define CHECK_CATALOGUES
import sys
from babel.messages.pofile import PoFileError, read_po
for path in sys.argv[1:]:
    try:
        with open(path, "rb") as fh:
            read_po(fh, abort_invalid=True)
    except (PoFileError, UnicodeDecodeError) as error:
        sys.exit(f"make translations: {path} is broken: {error}")
endef
export CHECK_CATALOGUES

translations: install
	@test -n "$(CATALOGUES)" || { echo "make translations: no catalogue under translations/" >&2; exit 1; }
	@$(BIN)/python -c "$$CHECK_CATALOGUES" $(CATALOGUES)
	$(BIN)/pybabel compile --statistics -d translations

db: install
	$(BIN)/flask db upgrade
	$(BIN)/flask demo load --if-empty

# The report's PDF is set in Liberation Serif and Sans (metric-compatible with Times and Arial),
# DejaVu as the fallback: Debian's font packages, installed when missing (as root).
fonts:
	@if ! fc-list 2>/dev/null | grep -q "Liberation Serif"; then \
	  if [ "$$(id -u)" = "0" ]; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq fontconfig fonts-liberation fonts-dejavu-core >/dev/null; \
	  else \
	    echo "fonts are missing: run 'sudo apt-get install fonts-liberation fonts-dejavu-core' (the report's PDF falls back to any font)"; \
	  fi; \
	fi

# Debian's Chromium for the real-browser tests (never a tool's own browser download).
chromium:
	@if ! command -v chromium >/dev/null 2>&1; then \
	  if [ "$$(id -u)" = "0" ]; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-dejavu-core >/dev/null; \
	  else \
	    echo "chromium is missing: run 'sudo apt-get install chromium' (browser tests will fail without it)"; \
	  fi; \
	fi

# Browser libraries for the check-in station, from the npm registry, pinned by the committed
# package-lock.json and copied into the git-ignored static/vendor/ (no front-end build chain):
# the BarcodeDetector polyfill (ES modules + its ZXing WebAssembly, served from our own static/)
# and @noble/ed25519 (offline badge checks where WebCrypto lacks Ed25519).
VENDOR := static/vendor
VENDOR_STAMP := $(VENDOR)/.installed

vendor: $(VENDOR_STAMP)

$(VENDOR_STAMP): package.json package-lock.json
	@if ! command -v npm >/dev/null 2>&1; then \
	  if [ "$$(id -u)" = "0" ]; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs npm >/dev/null; \
	  else \
	    echo "npm is missing: run 'sudo apt-get install nodejs npm' (the check-in station needs static/vendor/)" >&2; exit 1; \
	  fi; \
	fi
	npm ci --ignore-scripts --no-audit --no-fund --loglevel=error
	rm -rf $(VENDOR)
	mkdir -p $(VENDOR)/barcode-detector
	cp node_modules/barcode-detector/dist/es/ponyfill.js node_modules/barcode-detector/dist/es/zxing-exported.js $(VENDOR)/barcode-detector/
	cp node_modules/zxing-wasm/dist/reader/zxing_reader.wasm $(VENDOR)/barcode-detector/
	cp node_modules/barcode-detector/LICENSE $(VENDOR)/barcode-detector/LICENSE.barcode-detector
	cp node_modules/zxing-wasm/LICENSE $(VENDOR)/barcode-detector/LICENSE.zxing-wasm
	cp node_modules/@noble/ed25519/index.js $(VENDOR)/noble-ed25519.js
	cp node_modules/@noble/ed25519/LICENSE $(VENDOR)/LICENSE.noble-ed25519
	touch $@

bench: setup
	$(BIN)/python bench/programme_page.py

# Extract the French source strings and refresh the English catalogue (then translate the new
# or fuzzy entries in translations/en/LC_MESSAGES/messages.po; tests/test_i18n.py checks none is left).
# tests/test_i18n.py reads the BABEL_KEYWORDS line below: keep it on one line.
BABEL_KEYWORDS = -k _l -k lazy_gettext -k ngettext:1,2 -k lazy_ngettext:1,2 -k lazy_pgettext:1c,2 -k _gettext -k N_

messages: install
	$(BIN)/pybabel extract -F babel.cfg $(BABEL_KEYWORDS) --project=forum_app --copyright-holder="forum_app contributors" -o translations/messages.pot .
	$(BIN)/pybabel update -i translations/messages.pot -d translations -l en --init-missing --ignore-obsolete

clean:
	rm -rf $(VENV) instance/forum.db*

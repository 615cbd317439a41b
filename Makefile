# The two commands a new machine needs: `make run` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
export FLASK_APP := forum_app
HOST ?= 127.0.0.1
PORT ?= 5000

.PHONY: run test setup install translations db chromium bench clean

run: setup
	@echo ""
	@echo "  forum_app: http://$(HOST):$(PORT)/"
	@echo "  Demo organiser: $$($(BIN)/python -c 'from forum_app.cli import DEMO_ORGANISER_EMAIL as e, DEMO_ORGANISER_PASSWORD as p; print(e, "/", p)')"
	@echo "  Staff login: http://$(HOST):$(PORT)/login"
	@echo ""
	$(BIN)/flask run --host $(HOST) --port $(PORT)

test: setup chromium
	$(BIN)/python -m pytest $(PYTEST_ARGS)

setup: install translations db

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@

translations: install
	$(BIN)/pybabel compile --use-fuzzy -d translations -f 2>/dev/null || $(BIN)/pybabel compile -d translations

db: install
	$(BIN)/flask db upgrade
	$(BIN)/flask demo load --if-empty

# Debian's Chromium for the real-browser tests (never a tool's own browser download).
chromium:
	@if ! command -v chromium >/dev/null 2>&1; then \
	  if [ "$$(id -u)" = "0" ]; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-dejavu-core >/dev/null; \
	  else \
	    echo "chromium is missing: run 'sudo apt-get install chromium' (browser tests will fail without it)"; \
	  fi; \
	fi

bench: setup
	$(BIN)/python bench/programme_page.py

# Extract French source strings and refresh the English catalogue.
messages: install
	$(BIN)/pybabel extract -F babel.cfg -k _l -k lazy_gettext -o translations/messages.pot .
	$(BIN)/pybabel update -i translations/messages.pot -d translations -l en

clean:
	rm -rf $(VENV) instance/forum.db*

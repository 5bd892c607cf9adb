# One entry point per job. `make demo` and `make test` are the two README commands.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: demo test lint install system-deps bench clean

# Debian packages the tests need: Chromium for the browser tests, poppler-utils to read PDFs,
# systemd for `systemd-analyze verify` of the production units.
SYSTEM_PACKAGES := chromium poppler-utils systemd

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

## Initialise a Hackney hub node with synthetic agency data in ./demo and show how to use it
## (`make demo PORT=8091` serves it on another port).
PORT ?= 8080
demo: $(STAMP)
	@$(BIN)/mash-node demo --dir demo --port $(PORT)

system-deps:
	@missing=""; for p in $(SYSTEM_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "Installing$$missing (Debian packages)"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	fi

## Lint, then every test on SQLite and on PostgreSQL (127.0.0.1:5432), browser tests in Chromium.
test: $(STAMP) system-deps
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/pytest

lint: $(STAMP)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

bench: $(STAMP)
	$(BIN)/python -m bench.run_all

clean:
	rm -rf $(VENV) demo .pytest_cache

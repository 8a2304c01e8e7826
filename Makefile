# Quxiang: `make run` starts the suite on the embedded default; `make test` runs every test.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PACKAGES := libs/common $(sort $(wildcard services/*))
STAMP := $(VENV)/.installed

.PHONY: install run test lint bench-bus bench-import migrate clean lock

$(STAMP): requirements.lock $(addsuffix /pyproject.toml,$(PACKAGES))
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements.lock
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation \
		$(foreach p,$(PACKAGES),-e $(p))
	@touch $@

install: $(STAMP)

run: install
	$(BIN)/python -m quxiang.common.suite

lint: install
	$(BIN)/ruff check .

test: install lint
	$(BIN)/python -m pytest

bench-bus: install
	$(BIN)/python bench/bench_bus.py

bench-import: install
	$(BIN)/python bench/bench_import.py

migrate: install
	$(BIN)/python -m quxiang.common.suite --migrate-only

lock: install
	{ echo "# Every Python package the suite and its tests use, pinned. Regenerate with: make lock"; \
	  $(BIN)/python -m pip freeze --exclude-editable --all | grep -v '^pip=='; } > requirements.lock

clean:
	rm -rf $(VENV) var .pytest_cache .ruff_cache

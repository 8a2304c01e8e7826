# Quxiang: `make run` starts the suite on the embedded default; `make test` runs every test.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PACKAGES := libs/common $(sort $(wildcard services/*))
STAMP := $(VENV)/.installed
# The CJK font that agreement PDFs embed (services/signing adapters/fonts.py); QX_PDF_FONT overrides it.
PDF_FONT_PACKAGE := fonts-wqy-microhei
PDF_FONT := /usr/share/fonts/truetype/wqy/wqy-microhei.ttc
APT_GET := $(if $(filter 0,$(shell id -u)),,sudo) env DEBIAN_FRONTEND=noninteractive apt-get

.PHONY: install run test lint bench-bus bench-import bench-stats bench-lists bench-sync bench-pdf bench-hot-paths migrate clean lock

# Each capability that needs more than the Python packages (Debian packages, a stack of processes)
# keeps its targets in mk/<capability>.mk and adds what the tests need to TEST_PREREQS.
TEST_PREREQS :=
# nginx, the gateway of the local stack, the fault suite and the API benchmark (rule in mk/stack.mk).
NGINX_PACKAGE := nginx
NGINX := /usr/sbin/nginx
# $(call apt_install,PACKAGES,WHY): the one way a target installs Debian packages, used only when
# what they provide is missing. Refreshes the package lists first if they do not know the packages
# yet; without apt-get, says what to install and stops.
apt_install = command -v apt-get >/dev/null 2>&1 || { echo "$(2): install the Debian package(s) $(1)" >&2; exit 1; }; \
	echo "Installing $(1) ($(2))"; \
	$(APT_GET) install -y -qq --no-install-recommends $(1) >/dev/null 2>&1 || \
	  { $(APT_GET) update -qq >/dev/null && $(APT_GET) install -y -qq --no-install-recommends $(1) >/dev/null; } || \
	  { echo "Could not install the Debian package(s) $(1) ($(2))" >&2; exit 1; }
.DEFAULT_GOAL := install
-include $(sort $(wildcard mk/*.mk))

$(STAMP): requirements.lock $(addsuffix /pyproject.toml,$(PACKAGES))
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements.lock
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation \
		$(foreach p,$(PACKAGES),-e $(p))
	@touch $@

$(PDF_FONT):
	@$(call apt_install,$(PDF_FONT_PACKAGE),the CJK font agreement PDFs embed)
	@test -f $@ || { echo "$(PDF_FONT_PACKAGE) is installed but $@ is missing; set QX_PDF_FONT to the font file" >&2; exit 1; }

install: $(STAMP) $(if $(QX_PDF_FONT),,$(PDF_FONT))

run: install
	$(BIN)/python -m quxiang.common.suite

lint: install
	$(BIN)/ruff check .

# Two processes (the machine's cores), a test file each at a time: the suite waits on PostgreSQL,
# RabbitMQ and the stacks it starts as much as it computes. TEST_WORKERS=0 runs it in one process.
TEST_WORKERS ?= 2

test: install lint $(TEST_PREREQS)
	$(BIN)/python -m pytest $(if $(filter 0,$(TEST_WORKERS)),,-n $(TEST_WORKERS) --dist loadfile)

bench-bus: install
	$(BIN)/python bench/bench_bus.py

bench-import: install
	$(BIN)/python bench/bench_import.py

bench-stats: install
	$(BIN)/python bench/bench_stats.py

bench-lists: install
	$(BIN)/python bench/bench_lists.py $(BENCH_LISTS_ARGS)

bench-sync: install
	$(BIN)/python bench/bench_sync.py

bench-pdf: install
	$(BIN)/python bench/bench_pdf.py $(BENCH_PDF_ARGS)

# The Python side of the hot request paths against an earlier revision: BENCH_BASE=<commit> (required).
bench-hot-paths: install
	$(BIN)/python bench/bench_hot_paths.py --base $(or $(BENCH_BASE),$(error set BENCH_BASE=<commit>)) $(BENCH_HOT_ARGS)

migrate: install
	$(BIN)/python -m quxiang.common.suite --migrate-only

lock: install
	{ echo "# Every Python package the suite and its tests use, pinned. Regenerate with: make lock"; \
	  $(BIN)/python -m pip freeze --exclude-editable --all | grep -v '^pip=='; } > requirements.lock

clean:
	rm -rf $(VENV) var .pytest_cache .ruff_cache

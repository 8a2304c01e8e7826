# `make bench-api`: the platform's sustainable req/s at p99 <= 100 ms through the nginx gateway (a mixed
# workload on an isolated, seeded stack) beside this box's bare Flask hello-world under the same gunicorn
# settings; ends with `rps=N p99_ms=N hello_rps=N ratio=R` (bench/bench_api.py; options via
# BENCH_API_ARGS, e.g. BENCH_API_ARGS="--workers 3 --duration 30").
BENCH_API_ARGS ?=

.PHONY: bench-api

bench-api: install $(NGINX)
	$(BIN)/python bench/bench_api.py $(BENCH_API_ARGS)

# `make bench-season`: a graduation season on the stack (bench/bench_season.py): a roster of
# 100,000 graduates through invitations, reviews, terminations, archive and hukou, the loss checker
# after it; ends with `graduates=N events=N eps=N mirror_p99_ms=N lost=N duplicated=N unexpected=N`.
# Options via BENCH_SEASON_ARGS, e.g. BENCH_SEASON_ARGS="--graduates 5000 --concurrency 32".
BENCH_SEASON_ARGS ?=

.PHONY: bench-season

bench-season: install $(NGINX)
	$(BIN)/python bench/bench_season.py $(BENCH_SEASON_ARGS)

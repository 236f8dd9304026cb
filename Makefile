# One command per chore; the README and .ci/run call these same targets.
# A fresh machine needs only `make run` or `make test`: both install the project first (once).
PYTHON ?= python3
# Written after a successful install; redone when pyproject.toml changes. /build/ is gitignored.
STAMP := build/.installed
BENCHES := $(sort $(wildcard bench/bench_*.py))
SCREENSHOT ?= artifacts/screenshot.png
# Extra pytest arguments, e.g. make test-python PYTEST_ARGS="-m 'not browser'"
PYTEST_ARGS ?=

.PHONY: install run test test-python test-js lint bench models screenshot clean

install:
	$(PYTHON) -m pip install -e '.[test]'
	@mkdir -p $(dir $(STAMP)) && touch $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m pip install -e '.[test]'
	@mkdir -p $(dir $(STAMP)) && touch $(STAMP)

run: $(STAMP)
	digit-studio serve

# The browser tests need Debian's chromium and the page tests need node: the script installs
# them with apt-get when it can, or says exactly what to install.
test: $(STAMP)
	bash scripts/ensure-test-tools.sh
	@status=0; \
	$(MAKE) --no-print-directory test-python || status=1; \
	$(MAKE) --no-print-directory test-js || status=1; \
	if [ $$status -ne 0 ]; then echo "make test: FAILED (see above)" >&2; fi; exit $$status

# pytest exits 5 when it collected nothing: that is a broken suite, not a pass.
test-python:
	@echo "+ $(PYTHON) -m pytest $(PYTEST_ARGS)"
	@$(PYTHON) -m pytest $(PYTEST_ARGS); rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "make test: pytest collected no tests; failing" >&2; exit 1; fi; \
	exit $$rc

test-js:
	@if [ -d tests/js ]; then echo "+ node --test tests/js/"; node --test tests/js/; \
	else echo "make test: no tests/js folder, no page tests to run"; fi

lint: $(STAMP)
	ruff check app tests bench scripts
	mypy

bench: $(STAMP)
	@if [ -z "$(BENCHES)" ]; then echo "make bench: no bench/bench_*.py found" >&2; exit 1; fi
	@for f in $(BENCHES); do echo "+ $(PYTHON) $$f"; $(PYTHON) $$f || exit 1; done

# The shipped models, retrained from scratch (see models/README.md). Each command is also stored,
# word for word, in its model's metadata ("command"). About 30 s and 2 min on an idle machine.
models: $(STAMP)
	digit-studio train --hidden 16,16 --activation sigmoid --cost quadratic --lr 0.3 --momentum 0.9 --schedule cosine --l2 5e-05 --batch-size 64 --epochs 100 --seed 0 --out models/default.npz
	digit-studio train --hidden 256,256 --activation relu --cost cross_entropy --lr 0.1 --momentum 0.9 --schedule cosine --warmup 0.02 --l2 0.0001 --batch-size 128 --epochs 30 --augment 1.0 --average 0.99 --seed 0 --out models/best.npz

# A picture of the page with a live training run (headless Debian chromium).
screenshot: $(STAMP)
	bash scripts/ensure-test-tools.sh
	$(PYTHON) scripts/screenshot.py --out $(SCREENSHOT)

clean:
	rm -rf build .pytest_cache .ruff_cache .mypy_cache

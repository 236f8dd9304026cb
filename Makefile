# One command per chore; the README and .ci/run call these same targets.
# A fresh machine needs only `make run` or `make test`: each makes the project's virtualenv (.venv,
# with PYTHON) and installs into it what it needs, once. Debian and Ubuntu's python3 refuses a plain
# `pip install` (externally managed), so nothing is installed outside .venv.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
# Every install is pinned by constraints.txt (`make lock` writes it from a fresh resolve).
CONSTRAINTS := constraints.txt
PIP_INSTALL := $(PY) -m pip install --disable-pip-version-check -c $(CONSTRAINTS)
# Written after a successful install, inside the venv (a new venv starts without them); redone when
# pyproject.toml or the constraints change. RUN_STAMP: what serving needs; STAMP: that and the test tools.
RUN_STAMP := $(VENV)/.installed-run
STAMP := $(VENV)/.installed-test
BENCHES := $(sort $(wildcard bench/bench_*.py))
SCREENSHOT ?= artifacts/screenshot.png
# Extra pytest arguments, e.g. make test-python PYTEST_ARGS="-m 'not browser'"
PYTEST_ARGS ?=
# Extra arguments for the server, e.g. make run SERVE_ARGS="--port 8001"
SERVE_ARGS ?=

# Recipes run as if the venv were activated: its python, digit-studio, ruff, mypy and hadolint first.
export PATH := $(abspath $(VENV))/bin:$(PATH)
export VIRTUAL_ENV := $(abspath $(VENV))

.PHONY: install install-run install-cluster run test test-python test-js lint bench models screenshot lock clean

$(PY):
	bash scripts/ensure-venv.sh $(PYTHON) $(VENV)

$(RUN_STAMP): pyproject.toml $(CONSTRAINTS) | $(PY)
	$(PIP_INSTALL) -e .
	@touch $@

$(STAMP): pyproject.toml $(CONSTRAINTS) | $(PY)
	$(PIP_INSTALL) -e '.[test]'
	@touch $@ $(RUN_STAMP)

install-run: $(RUN_STAMP)

# The optional `cluster` extra (Ray) for `serve --ray` and tests/test_ray.py; CI installs it too.
# Pinned like the rest: constraints.txt holds Ray and its own dependencies (make lock resolves them).
CLUSTER_STAMP := $(VENV)/.installed-cluster
$(CLUSTER_STAMP): pyproject.toml $(CONSTRAINTS) $(STAMP)
	$(PIP_INSTALL) -e '.[test,cluster]'
	@touch $@

install-cluster: $(CLUSTER_STAMP)

install: $(STAMP)

run: $(RUN_STAMP)
	digit-studio serve $(SERVE_ARGS)

# The browser tests need Debian's chromium and the page tests need node: the script installs
# them with apt-get when it can, or says exactly what to install.
test: $(STAMP)
	bash scripts/ensure-test-tools.sh
	@status=0; \
	$(MAKE) --no-print-directory test-python || status=1; \
	$(MAKE) --no-print-directory test-js || status=1; \
	if [ $$status -ne 0 ]; then echo "make test: FAILED (see above)" >&2; fi; exit $$status

# pytest exits 5 when it collected nothing: that is a broken suite, not a pass.
# (PY may name another interpreter that has the test extra, e.g. make test-python PY=python3.)
test-python:
	@echo "+ $(PY) -m pytest $(PYTEST_ARGS)"
	@$(PY) -m pytest $(PYTEST_ARGS); rc=$$?; \
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
	@for f in $(BENCHES); do echo "+ $(PY) $$f"; $(PY) $$f || exit 1; done

# The shipped models, retrained from scratch (see models/README.md). Each command is also stored,
# word for word, in its model's metadata ("command"). About 30 s and 2 min on an idle machine.
models: $(STAMP)
	digit-studio train --hidden 16,16 --activation sigmoid --cost quadratic --lr 0.3 --momentum 0.9 --schedule cosine --l2 5e-05 --batch-size 64 --epochs 100 --seed 0 --out models/default.npz
	digit-studio train --hidden 256,256 --activation relu --cost cross_entropy --lr 0.1 --momentum 0.9 --schedule cosine --warmup 0.02 --l2 0.0001 --batch-size 128 --epochs 30 --augment 1.0 --average 0.99 --seed 0 --out models/best.npz

# A picture of the page with a live training run (headless Debian chromium).
screenshot: $(STAMP)
	bash scripts/ensure-test-tools.sh
	$(PY) scripts/screenshot.py --out $(SCREENSHOT)

# Re-resolve every dependency (the test and cluster extras' too) to the newest versions pyproject.toml
# allows and pin them in constraints.txt; then run make test and commit the new file if it passes.
lock:
	bash scripts/lock.sh $(PYTHON)

# The virtualenv goes too: the next make run or make test makes it again.
clean:
	rm -rf build .pytest_cache .ruff_cache .mypy_cache $(VENV)

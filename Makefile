# One command per chore; the README and .ci/run call these.
PYTHON ?= python3

.PHONY: install run test lint bench models
install:
	$(PYTHON) -m pip install -e '.[test]'

run:
	digit-studio train --epochs 30

test:
	$(PYTHON) -m pytest

lint:
	ruff check app tests bench
	mypy

bench:
	$(PYTHON) bench/train_speed.py

models:
	@echo "see models/README"

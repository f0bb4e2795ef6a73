# kcdata: the two set-up commands are `make demo` and `make test`; both build the venv themselves.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: install demo test test-fast lint typecheck unit bench docs dist clean

install: $(STAMP)

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

demo: $(STAMP)
	$(BIN)/python -m kcdata.demo

lint: $(STAMP)
	$(BIN)/ruff check kcdata tests benchmarks

typecheck: $(STAMP)
	$(BIN)/mypy

unit: $(STAMP)
	$(BIN)/python -m pytest

test: lint typecheck unit

# The quick inner loop: everything but the tests marked `slow` (end-to-end publishes, the demo, portal
# kills, the browser, the wheel install). `make test` runs them all.
test-fast: lint typecheck
	$(BIN)/python -m pytest -m "not slow"

# docs/cli.md is generated from the commands' --help (tests/test_docs_cli.py checks it is fresh).
docs: $(STAMP)
	$(BIN)/python -m kcdata.cli.reference -o docs/cli.md

# The sdist and wheel a city installs (pip install dist/kcdata-*.whl).
dist: $(STAMP)
	$(BIN)/python -m build --outdir dist .

bench: $(STAMP)
	$(BIN)/python -m benchmarks

clean:
	rm -rf $(VENV) build dist *.egg-info .pytest_cache .mypy_cache .ruff_cache

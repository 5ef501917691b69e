# The Infant Pose Book. Two commands matter (README.md):
#   make book   run every chapter on the embedded default, then build the HTML book
#   make test   lint, unit tests, smoke-run every chapter, build and check the book
# Each sets up what it needs: Debian packages (apt-get, when missing), .venv, the kernel.

SHELL := bash
.SHELLFLAGS := -euo pipefail -c
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
PROFILE ?= default
STAMP := $(VENV)/.installed

.PHONY: book test browser-test lab setup system-deps browser lint format constraints clean

book: setup  ## all chapters with PROFILE (default), results page, HTML book in _build/html
	$(PY) -m infantpose.book all --profile $(PROFILE)

test: setup browser  ## what CI runs (.ci/run)
	$(VENV)/bin/ruff check lib tests benchmarks && $(PY) -m infantpose.book ruff check
	$(VENV)/bin/ruff format --check lib tests benchmarks && $(PY) -m infantpose.book ruff format --check
	$(VENV)/bin/pytest -q -m "not browser"
	$(MAKE) --no-print-directory browser-test
	$(PY) -m infantpose.book all --profile smoke
	$(PY) -m infantpose.book check

browser-test: setup browser  ## the co-labelling widget in JupyterLab, driven by headless Chromium
	$(VENV)/bin/pytest -q -m browser

lab: setup  ## JupyterLab on the same environment; the .md chapters open as notebooks
	$(PY) -m infantpose.lab $(ARGS)

setup: system-deps $(STAMP)

system-deps:  ## EGL/Mesa for pyrender's offscreen rendering
	@bash .ci/system-deps.sh egl

browser:  ## headless Chromium, to open the built book as a reader would
	@bash .ci/system-deps.sh chromium

$(STAMP): pyproject.toml constraints.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade "pip>=23.2"
	$(PY) -m pip install --quiet -c constraints.txt -e ".[dev]"
	$(PY) -m ipykernel install --sys-prefix --name infantpose --display-name "Python (infantpose)" >/dev/null
	touch $(STAMP)

lint:  ## ruff on lib, tests, benchmarks and the chapters' code cells (through jupytext)
	$(VENV)/bin/ruff check lib tests benchmarks && $(PY) -m infantpose.book ruff check && $(PY) -m infantpose.book ruff format --check

format:
	$(VENV)/bin/ruff format lib tests benchmarks
	$(VENV)/bin/ruff check --fix lib tests benchmarks

constraints:  ## re-pin every installed package after changing pyproject.toml
	{ echo "# Exact versions of every package in the environment the book and tests were run with"; \
	  echo "# (pip install -c constraints.txt). Regenerate with: make constraints"; \
	  $(PY) -m pip freeze --exclude-editable | sed 's/+cpu$$//' | sort -f; } > constraints.txt

clean:  ## generated files only; data/ and runs/ are kept
	rm -rf _build book/notebooks book/results.md .pytest_cache .ruff_cache

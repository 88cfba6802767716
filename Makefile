PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP_DEMO := $(VENV)/.installed-demo
STAMP_TEST := $(VENV)/.installed-test

.PHONY: demo test test-slow lint docs bench bench-quick clean

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

$(STAMP_DEMO): pyproject.toml | $(PY)
	$(PY) -m pip install --quiet -e ".[all]"
	touch $@

$(STAMP_TEST): pyproject.toml | $(PY)
	$(PY) -m pip install --quiet -e ".[test]"
	touch $@ $(STAMP_DEMO)

demo: $(STAMP_DEMO)
	$(PY) -m logitfit.demo

test: $(STAMP_TEST)
	$(PY) -m pytest -n 2 -m "not slow" -q

test-slow: $(STAMP_TEST)
	$(PY) -m pytest -n 2 -m slow -q

lint: $(STAMP_TEST)
	$(VENV)/bin/ruff check src tests benchmarks

# the documentation site into site/: warnings (broken links, undocumented public names) are errors
docs: $(STAMP_TEST)
	NO_MKDOCS_2_WARNING=1 $(VENV)/bin/mkdocs build --strict

bench: $(STAMP_TEST)
	$(VENV)/bin/pip install --quiet -e ".[bench]"
	env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE $(PY) -m benchmarks --all --notes benchmarks/report-notes.md --write docs/benchmarks.md

bench-quick: $(STAMP_TEST)
	$(PY) -m benchmarks --quick

clean:
	rm -rf $(VENV) build dist site .pytest_cache .hypothesis

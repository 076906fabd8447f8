# Every target creates .venv and installs what it needs: a fresh clone needs no other step.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml | cksum | cut -d' ' -f1)

.PHONY: demo test test-fast bench lint install clean fuzz

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test,dev]'
	rm -f $(VENV)/.installed-* && touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(PY) examples/demo.py

test: $(STAMP)
	$(PY) -m pytest -q

test-fast: $(STAMP)
	$(PY) -m pytest -q -m "not numba"

bench: $(STAMP)
	$(PY) -m pip install --quiet numexpr 'jax[cpu]' || echo "optional benchmark packages not installed"
	$(PY) benchmarks/run.py

# A long fuzz campaign: make fuzz N=10000 [SEED=...]; failing programs go to fuzz-failures/.
N ?= 10000
SEED ?= 0
fuzz: $(STAMP)
	$(PY) -m jitgraph.testing.fuzz --count $(N) --seed $(SEED) --numba-every 1000 --out fuzz-failures

lint: $(STAMP)
	$(PY) -m ruff check jitgraph tests examples benchmarks

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache

# Plain targets; each creates the virtual environment when it is missing.
VENV ?= .venv
PY := $(VENV)/bin/python

.PHONY: demo test lint bench test-mpi

$(PY):
	python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

$(VENV)/.installed: $(PY) pyproject.toml
	$(PY) -m pip install --quiet -e '.[test,fast]'
	touch $@

# The main job: train the default MLP on the built-in digits. The package's bytecode is
# compiled first, as pip does for an installed package (an editable install gets none, and
# with PYTHONDONTWRITEBYTECODE set every run would compile its imports again: 0.7 s of CPU);
# it takes 0.1 s once the bytecode is current.
demo: $(VENV)/.installed
	$(PY) -m compileall -q src/chainrule
	$(VENV)/bin/chainrule train

lint: $(VENV)/.installed
	$(VENV)/bin/ruff check .

# The suite on every core (pytest-xdist); ``worksteal`` hands an idle worker tests queued for a
# busy one, so that a few slow tests in one worker's share do not leave the other core idle.
test: lint
	$(PY) -m pytest -n auto --dist worksteal

# The data-parallel tests alone (they launch mpiexec -n 2 themselves).
test-mpi: $(VENV)/.installed
	$(PY) -m pytest tests/distributed

# Side by side with PyTorch when it can be installed (a CPU wheel); chainrule alone otherwise.
# PyTorch goes into an environment of its own: in .venv it would shadow chainrule in the tests
# that run PyTorch-style programs (tests/compat/corpus).
BENCH_VENV ?= .venv-bench
bench:
	test -x $(BENCH_VENV)/bin/python || python3 -m venv $(BENCH_VENV)
	$(BENCH_VENV)/bin/python -m pip install --quiet -e '.[fast]'
	-$(BENCH_VENV)/bin/python -m pip install --quiet 'torch==2.13.0'
	$(BENCH_VENV)/bin/python bench/run.py --out bench/results.md

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

# The main job: train the default MLP on the built-in digits.
demo: $(VENV)/.installed
	$(VENV)/bin/chainrule train

lint: $(VENV)/.installed
	$(VENV)/bin/ruff check .

test: lint
	$(PY) -m pytest

# The data-parallel tests alone (they launch mpiexec -n 2 themselves).
test-mpi: $(VENV)/.installed
	$(PY) -m pytest tests/distributed

# Side by side with PyTorch when it can be installed (a CPU wheel); chainrule alone otherwise.
bench: $(VENV)/.installed
	-$(PY) -m pip install --quiet 'torch==2.13.0'
	$(PY) bench/run.py --out bench/results.md

# Two commands do all the set-up: `make demo` and `make test` (see README.md).
#
# TORCH_SPEC picks the torch build. Default: the CPU wheel. CUDA users:
#   make demo TORCH_SPEC="torch==2.13.0" TORCH_INDEX=https://download.pytorch.org/whl/cu128
# Ascend users: install CANN and source its set_env.sh, then (pair from Ascend's compatibility table;
# README, section "Ascend NPUs: install"):
#   aarch64: make demo TORCH_SPEC="torch==2.7.1 torch-npu==2.7.1"
#   x86-64:  make demo TORCH_SPEC="torch==2.7.1+cpu torch-npu==2.7.1" TORCH_INDEX=https://download.pytorch.org/whl/cpu
# Changing TORCH_SPEC or TORCH_INDEX reinstalls torch on the next make (TORCH_STAMP below).
PYTHON ?= python3
VENV ?= .venv
TORCH_SPEC ?= torch==2.13.0
TORCH_INDEX ?=
PROFILE ?= demo
OUT ?= outputs/$(PROFILE)
PYTEST_ARGS ?=

PY := $(VENV)/bin/python
STAMP := $(VENV)/.siamfc-installed
# Holds the torch request of the last install; rewritten (so the venv is redone) only when it differs.
TORCH_STAMP := $(VENV)/.siamfc-torch
TORCH_REQUEST := $(strip $(TORCH_SPEC)) $(if $(strip $(TORCH_INDEX)),index=$(strip $(TORCH_INDEX)))

.PHONY: demo test test-fast venv bench clean-demo strip-notebooks lab notebook ALWAYS

venv: $(STAMP)

ALWAYS:

$(TORCH_STAMP): ALWAYS
	@mkdir -p $(VENV)
	@if [ "$$(cat $@ 2>/dev/null)" != "$(TORCH_REQUEST)" ]; then echo "$(TORCH_REQUEST)" > $@; fi

$(STAMP): pyproject.toml Makefile $(TORCH_STAMP)
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet $(TORCH_SPEC) $(if $(TORCH_INDEX),--index-url $(TORCH_INDEX) --extra-index-url https://pypi.org/simple)
	$(PY) -m pip install --quiet -e ".[test]"
	$(PY) -m ipykernel install --sys-prefix --name python3 --display-name "Python 3 (siamfc)" >/dev/null
	@touch $(STAMP)

demo: $(STAMP)
	$(PY) -m siamfc_lib.pipeline --profile $(PROFILE) --out $(OUT)

test: $(STAMP)
	$(PY) -m pytest $(PYTEST_ARGS)

# About two minutes on 2 cores: everything but the slow, notebook and multi-process tests (CI runs `make test`).
test-fast: $(STAMP)
	$(PY) -m pytest -m "not slow and not notebooks and not distributed" $(PYTEST_ARGS)

bench: $(STAMP)
	$(PY) -m siamfc_lib.bench all

clean-demo:
	rm -rf $(OUT)

# Notebooks are committed without outputs (tests enforce it). After working in JupyterLab:
# outputs, execution counts, kernel and view metadata go; cell ids stay (git diff stays empty).
strip-notebooks: $(STAMP)
	$(PY) -m siamfc_lib.nbhygiene notebooks/*.ipynb

# JupyterLab on the project (`make lab`), or on a copy of one notebook with a profile's
# parameters injected (`make notebook NB=05 PROFILE=demo`, written to outputs/<profile>/interactive/).
# LAB_ARGS passes options to JupyterLab, e.g. LAB_ARGS="--no-browser --ip=0.0.0.0 --port=8888".
NB ?=
LAB_ARGS ?=
LAB_STAMP := $(VENV)/.siamfc-lab-installed

$(LAB_STAMP): $(STAMP)
	$(PY) -m pip install --quiet -e ".[notebook]"
	@touch $(LAB_STAMP)

lab: $(LAB_STAMP)
	$(PY) -m siamfc_lib.interactive lab $(LAB_ARGS)

notebook: $(LAB_STAMP)
	$(PY) -m siamfc_lib.interactive notebook $(NB) --profile $(PROFILE) $(if $(filter 1 yes true,$(FORCE)),--force) $(LAB_ARGS)

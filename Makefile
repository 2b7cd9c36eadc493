# Two commands do all the set-up: `make demo` and `make test` (see README.md).
#
# TORCH_SPEC picks the torch build the first time; the venv then remembers it, and a later `make`
# without TORCH_SPEC keeps what is installed (an Ascend torch + torch-npu pair stays installed).
# Default: the CPU wheel. CUDA users:
#   make venv TORCH_SPEC="torch==2.13.0" TORCH_INDEX=https://download.pytorch.org/whl/cu128
# Ascend users: install CANN (toolkit and the kernels/ops package of your chip), source its set_env.sh,
# then a pair from Ascend's compatibility table (docs/install-and-ascend.md), e.g.
#   aarch64: make venv PYTHON=python3.11 TORCH_SPEC="torch==2.7.1 torch-npu==2.7.1.post2"
#   x86-64:  make venv PYTHON=python3.11 TORCH_SPEC="torch==2.7.1+cpu torch-npu==2.7.1.post2" TORCH_INDEX=https://download.pytorch.org/whl/cpu
# and check the machine: .venv/bin/python -m siamfc_lib.doctor --device npu
# Giving another TORCH_SPEC or TORCH_INDEX reinstalls torch.
PYTHON ?= python3
VENV ?= .venv
TORCH_SPEC ?=
TORCH_INDEX ?=
DEFAULT_TORCH_SPEC := torch==2.13.0
PROFILE ?= demo
OUT ?= outputs/$(PROFILE)
PYTEST_ARGS ?=

PY := $(VENV)/bin/python
STAMP := $(VENV)/.siamfc-installed
# The torch request of the last install ("<spec> index=<url>"): kept unless TORCH_SPEC asks for another.
TORCH_STAMP := $(VENV)/.siamfc-torch
INSTALLED_REQUEST := $(strip $(shell cat $(TORCH_STAMP) 2>/dev/null))
ifeq ($(strip $(TORCH_SPEC)),)
ifneq ($(INSTALLED_REQUEST),)
KEEP_TORCH := yes
endif
override TORCH_SPEC := $(DEFAULT_TORCH_SPEC)
endif
ifeq ($(KEEP_TORCH),yes)
TORCH_REQUEST := $(INSTALLED_REQUEST)
else
TORCH_REQUEST := $(strip $(TORCH_SPEC)) $(if $(strip $(TORCH_INDEX)),index=$(strip $(TORCH_INDEX)))
endif
MIN_PYTHON := 3.10

.PHONY: demo test test-fast venv bench clean-demo strip-notebooks lab notebook ALWAYS

venv: $(STAMP)

ALWAYS:

# The venv, with an interpreter new enough (openEuler 22.03's python3 is 3.9).
$(PY):
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 10) else 1)' 2>/dev/null || { \
	  echo "error: PYTHON=$(PYTHON) is $$($(PYTHON) --version 2>&1 || echo 'not found'); this project needs Python $(MIN_PYTHON) or newer." >&2; \
	  echo "Install one (e.g. conda create -n siamfc python=3.11) and name it: make venv PYTHON=python3.11" >&2; exit 1; }
	$(PYTHON) -m venv $(VENV)

# torch is (re)installed only when the request differs from what the venv has (`make -n` shows it).
ifeq ($(TORCH_REQUEST),$(INSTALLED_REQUEST))
$(TORCH_STAMP): | $(PY)
	@:
else
$(TORCH_STAMP): ALWAYS | $(PY)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet $(TORCH_SPEC) $(if $(TORCH_INDEX),--index-url $(TORCH_INDEX) --extra-index-url https://pypi.org/simple)
	@echo "$(TORCH_REQUEST)" > $@
endif

$(STAMP): pyproject.toml Makefile $(TORCH_STAMP)
	$(PY) -m pip install --quiet -e ".[test]"
	$(PY) -m ipykernel install --sys-prefix --name python3 --display-name "Python 3 (siamfc)" >/dev/null
	@if git rev-parse --git-dir >/dev/null 2>&1; then $(PY) -m siamfc_lib.nbfilter --install; fi
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

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

.PHONY: demo test venv bench clean-demo strip-notebooks FORCE

venv: $(STAMP)

FORCE:

$(TORCH_STAMP): FORCE
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

bench: $(STAMP)
	$(PY) -m siamfc_lib.bench all

clean-demo:
	rm -rf $(OUT)

# Notebooks are committed without outputs (tests enforce it). After working in JupyterLab:
strip-notebooks: $(STAMP)
	$(VENV)/bin/nbstripout notebooks/*.ipynb

# Two commands do all the set-up: `make demo` and `make test` (see README.md).
#
# TORCH_SPEC picks the torch build. Default: the CPU wheel. CUDA users:
#   make demo TORCH_SPEC="torch==2.13.0" TORCH_INDEX=https://download.pytorch.org/whl/cu128
# Ascend users: install CANN and source its set_env.sh, then (pair from Ascend's compatibility table)
#   make demo TORCH_SPEC="torch==2.7.1 torch-npu==2.7.1"
PYTHON ?= python3
VENV ?= .venv
TORCH_SPEC ?= torch==2.13.0
TORCH_INDEX ?=
PROFILE ?= demo
OUT ?= outputs/$(PROFILE)
PYTEST_ARGS ?=

PY := $(VENV)/bin/python
STAMP := $(VENV)/.siamfc-installed

.PHONY: demo test venv bench clean-demo strip-notebooks lab notebook

venv: $(STAMP)

$(STAMP): pyproject.toml Makefile
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
	$(PY) -m siamfc_lib.interactive notebook $(NB) --profile $(PROFILE) $(if $(FORCE),--force) $(LAB_ARGS)

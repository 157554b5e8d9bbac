# riskmodel: two commands do everything on a fresh machine with Python 3.11, pip and make.
#   make demo   set up, generate the synthetic company, run the pipeline, write data/ and reports/
#   make test   set up, run the test suite
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
RISKMODEL := $(VENV)/bin/riskmodel
DEMO_SEED ?= 20240601
DEMO_PERIOD ?= 2025Q4
DEMO_DIR := data/raw/demo
RUN_DIR := data/processed/demo_run
# de-identified reports need a pseudonym key kept outside the repository; the demo makes one if there is none
PSEUDONYM_KEY ?= $(HOME)/.config/riskmodel/pseudonym.key
export RISKMODEL_PSEUDONYM_KEY_FILE ?= $(PSEUDONYM_KEY)

.PHONY: setup fonts demo test lab bench clean help

help:
	@echo "make demo   - set up and run the whole pipeline on the synthetic company"
	@echo "make test   - set up and run the tests"
	@echo "make lab    - open JupyterLab with the riskmodel kernel"
	@echo "make bench  - run the benchmarks under bench/"

# The virtual environment is rebuilt when pyproject.toml changes.
$(VENV)/.installed: pyproject.toml
	$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "riskmodel needs Python >= 3.11")'
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	$(PY) -m ipykernel install --sys-prefix --name riskmodel --display-name "Python (riskmodel)" > /dev/null
	touch $@

# Chinese text in figures needs a CJK font.  Installed with apt where we can
# (root on Debian/Ubuntu); otherwise the set-up says what to install and goes on.
fonts:
	@bash scripts/ensure_cjk_font.sh

setup: $(VENV)/.installed fonts

demo: setup
	$(RISKMODEL) generate --preset demo --seed $(DEMO_SEED) --out $(DEMO_DIR)
	$(RISKMODEL) validate $(DEMO_DIR)
	$(RISKMODEL) run --data $(DEMO_DIR) --out $(RUN_DIR)
	$(RISKMODEL) evaluate --run $(RUN_DIR) --data $(DEMO_DIR)
	@test -f "$(RISKMODEL_PSEUDONYM_KEY_FILE)" || $(RISKMODEL) deid keygen --out "$(RISKMODEL_PSEUDONYM_KEY_FILE)"
	$(RISKMODEL) ledger log-alerts --run $(RUN_DIR) --role supervisor
	$(RISKMODEL) report supervision --run $(RUN_DIR) --period $(DEMO_PERIOD) --audience leadership
	$(RISKMODEL) report evaluation --run $(RUN_DIR)
	$(RISKMODEL) report portrait --run $(RUN_DIR) --entity-kind employee --entity-id top
	$(RISKMODEL) report portrait --run $(RUN_DIR) --entity-kind department --entity-id top
	$(RISKMODEL) report portrait --run $(RUN_DIR) --entity-kind business_type --entity-id LEAF --lang en
	@echo "reports: reports/index.html"

test: setup
	$(PY) -m pytest -n 2 -q

lab: setup
	$(VENV)/bin/jupyter lab notebooks/exploratory/explore_demo.ipynb

bench: setup
	$(PY) bench/run_all.py

clean:
	rm -rf $(VENV) data/raw/* data/interim/* data/processed/* reports/*/

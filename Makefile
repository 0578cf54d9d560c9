# Two entry points for a fresh machine: `make demo` and `make test`.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint bench docs site notebooks results results-runs results-calibration \
	results-sensitivity results-optimise results-compare clean

$(BIN)/python:
	$(PY) -m venv $(VENV)

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install --upgrade pip
	$(BIN)/pip install -e '.[dev]'
	touch $(STAMP)

# the main job: every preset on leshan-mayday, same seeds, paired effects vs no police, as
# deployed (each with its own officer-hours) and at one equal budget of officer-hours a day
DEMO_ARGS := compare --scenario leshan-mayday --scale 1.0 --days 2 --replications 10 --workers 2
EQUAL_BUDGET := --budget 1000
demo: $(STAMP)
	$(BIN)/crowdsim $(DEMO_ARGS) --out out/demo
	$(BIN)/crowdsim $(DEMO_ARGS) $(EQUAL_BUDGET) --out out/demo-equal-budget
	@echo "figures and tables: out/demo/ and out/demo-equal-budget/ (summary.md, effects_theft_rate.png, map_best_policy.png)"

test: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mkdocs build --strict --quiet
	$(BIN)/python -m pytest -n 2 --nbmake tests experiments/notebooks

site: $(STAMP)  # the documentation site, into build/site (open build/site/index.html)
	$(BIN)/mkdocs build --strict

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

docs: $(STAMP)  # regenerate the parameter tables embedded in docs/
	$(BIN)/python -c "from pathlib import Path; from sim.paramdoc import refresh_docs; refresh_docs(Path('docs'))"

# the tutorials, executed, as Markdown with their figures (readable without running them)
notebooks: $(STAMP)
	$(BIN)/pip install -e '.[notebooks]'
	$(BIN)/jupyter nbconvert --to markdown --execute --output-dir docs/notebooks \
		experiments/notebooks/explore.ipynb experiments/notebooks/compare-policies.ipynb

bench: $(STAMP)
	$(BIN)/python -m benchmarks

# every shipped result in results/ and the docs tables made from it, from the experiment
# files as committed: run after a model change (it replaces the shipped results: --force).
# Five parts, in order (each part's time on 2 cores: docs/performance.md, "make results").
CASE := compare --scenario leshan-mayday --policies centralised-response,grid,transit-cooperation,integrated --baseline none --workers 2 --seed 2024
SWEEPS := policy-comparison koper-dwell plainclothes-vs-uniformed offender-pressure
results: results-runs results-calibration results-optimise results-sensitivity results-compare

results-runs: $(STAMP)  # regression reference, sweeps, power and scale tables, validation
	$(BIN)/crowdsim regress --update --workers 2
	for e in $(SWEEPS) power calibration-scale; do \
		$(BIN)/crowdsim sweep experiments/$$e.toml --workers 2 --out results/$$e --force || exit 1; done
	for e in $(SWEEPS); do $(BIN)/crowdsim analyze results/$$e --force || exit 1; done
	$(BIN)/python experiments/power_table.py
	$(BIN)/python experiments/calibration_scale_table.py
	$(BIN)/crowdsim validate-model --update-docs --out results/validation --force --workers 2

results-calibration: $(STAMP)  # fit on the case and three field trials, predict the held-out fact
	$(BIN)/crowdsim calibrate experiments/calibrate-leshan.toml --workers 2 \
		--out results/calibration-leshan --force

results-optimise: $(STAMP)  # the mix of units, scored across posterior draws (needs calibration)
	$(BIN)/crowdsim optimise experiments/optimise-leshan.toml --workers 2 \
		--out results/optimise-leshan --force

results-sensitivity: $(STAMP)  # Sobol indices of policy effects (needs the optimised policy), PRIM
	$(BIN)/crowdsim sweep experiments/sensitivity-leshan.toml --workers 2 \
		--out results/sensitivity-leshan --force
	$(BIN)/crowdsim analyze results/sensitivity-leshan --force
	$(BIN)/crowdsim discover results/sensitivity-leshan --outcome posts_minus_plainclothes \
		--above 0 --out results/sensitivity-leshan/discovery --force

results-compare: $(STAMP)  # the main job and the case study (the calibrated one needs calibration)
	$(BIN)/crowdsim $(DEMO_ARGS) --out results/leshan-compare --force
	$(BIN)/crowdsim $(DEMO_ARGS) $(EQUAL_BUDGET) --out results/leshan-compare-equal-budget --force
	$(BIN)/crowdsim $(CASE) --scale 1.0 --replications 10 --out results/case-study --force
	$(BIN)/crowdsim $(CASE) --scale 1.0 --replications 4 --draws 12 \
		--posterior results/calibration-leshan --out results/case-study-calibrated --force

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .ruff_cache

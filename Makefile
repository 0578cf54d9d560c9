# Two entry points for a fresh machine: `make demo` and `make test`.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint bench docs notebooks clean

$(BIN)/python:
	$(PY) -m venv $(VENV)

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install --upgrade pip
	$(BIN)/pip install -e '.[dev]'
	touch $(STAMP)

# the main job: every preset on leshan-mayday, same seeds, paired effects vs no police
DEMO_ARGS := compare --scenario leshan-mayday --scale 0.25 --days 2 --replications 5 --workers 2
demo: $(STAMP)
	$(BIN)/crowdsim $(DEMO_ARGS) --out out/demo
	@echo "figures and tables: out/demo/ (effects_theft_rate.png, map_best_policy.png, summary.md)"

test: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/python -m pytest -n 2 --nbmake tests experiments/notebooks

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

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .ruff_cache

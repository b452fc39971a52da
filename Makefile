# usdai-sim — every target creates .venv when it is missing and installs the project into it.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
SCENARIO ?= baseline
OUT ?= reports/$(SCENARIO)

NOJIT_TESTS ?= tests/unit tests/validation

.PHONY: run test test-nojit test-deep bench lint docs validation calibration clean mutation

$(STAMP): pyproject.toml
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/usdai-sim run $(SCENARIO) --out $(OUT) --force --workers 2

# The whole suite with the compiled kernels, then the unit tests with numba off (~35 s; test-deep runs the
# validation tests with numba off too, ~4 min more).
test: $(STAMP)
	HYPOTHESIS_PROFILE=ci $(BIN)/python -m pytest -q -n 2 tests
	$(MAKE) --no-print-directory test-nojit NOJIT_TESTS=tests/unit

# The compiled kernels run as plain Python (numba off): coverage and tracebacks see the rules' source.
test-nojit: $(STAMP)
	NUMBA_DISABLE_JIT=1 HYPOTHESIS_PROFILE=ci $(BIN)/python -m pytest -q -n 2 -m "not slow" $(NOJIT_TESTS)

test-deep: $(STAMP) test-nojit
	HYPOTHESIS_PROFILE=deep $(BIN)/python -m pytest -q -n 2 tests

mutation: $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[dev,mutation]'
	$(BIN)/python tests/mutation/run.py $(GROUPS)

bench: $(STAMP)
	$(BIN)/python -m benchmarks.run

lint: $(STAMP)
	$(BIN)/ruff check usdai_sim tests benchmarks
	$(BIN)/mypy usdai_sim

validation: $(STAMP)
	$(BIN)/usdai-sim replay-report --out reports/validation.md

calibration: $(STAMP)
	$(BIN)/usdai-sim calibrate --out reports/calibration.md

docs: $(STAMP)
	$(BIN)/python -m usdai_sim.readme README.md

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .hypothesis .mypy_cache .ruff_cache
	find . -name __pycache__ -type d -prune -exec rm -rf {} +

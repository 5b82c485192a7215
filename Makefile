# The two commands of README's quick start. Each sets up what it needs (a virtualenv with the
# pinned dependencies) and then runs; running them again only re-installs when pyproject.toml
# or constraints.txt changed.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
DIR    ?=

.PHONY: demo test setup services clean

setup: $(STAMP)

$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --upgrade "pip>=24"
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -c constraints.txt -e '.[test]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/beleidsradar demo $(if $(DIR),--dir $(DIR))

# The storage and end-to-end tests also run on PostgreSQL (127.0.0.1:5432, database test);
# scripts/services starts it when it is installed but stopped; scripts/browser installs
# Debian's Chromium for the browser test when it is missing.
test: $(STAMP)
	scripts/services
	scripts/browser
	$(BIN)/python -m pytest -n 2 --dist loadfile

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache

# Two commands on a fresh machine: `make run` and `make test`. Each sets up .venv on first use.
PYTHON ?= python3
VENV := .venv
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml | cksum | cut -d' ' -f1)

.PHONY: run test lint bench clean

$(STAMP): pyproject.toml
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	# pip is not quiet: the first install takes a while, and a silent one looks stuck.
	$(VENV)/bin/pip install --upgrade pip
	$(VENV)/bin/pip install -e '.[test,dev]'
	rm -f $(VENV)/.installed-*
	touch $(STAMP)

run: $(STAMP)
	$(VENV)/bin/hrdata migrate data/challenge --quiet
	$(VENV)/bin/hrdata serve $(SERVE_ARGS)

test: $(STAMP)
	scripts/system-packages
	$(VENV)/bin/pytest $(PYTEST_ARGS)

lint: $(STAMP)
	$(VENV)/bin/ruff format --check src tests bench
	$(VENV)/bin/ruff check src tests bench
	$(VENV)/bin/mypy src

bench: $(STAMP)
	$(VENV)/bin/python bench/migrate.py

clean:
	rm -rf $(VENV) .hrdata

# The two commands of the README: `make serve` and `make test`. Everything else is a building block.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000

# Django 6 runs on Python 3.12+: pyenv's 3.13 where there is one.
PYTHON_DJANGO6 ?= $(firstword $(wildcard $(HOME)/.pyenv/versions/3.13*/bin/python3) $(shell command -v python3.13))
VENV_DJANGO6 ?= .venv-django6

.PHONY: serve test test-django6 install lint format migrations-check deploy-check clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e ".[dev]"
	touch $@

install: $(VENV)/.installed

## Serve the console on http://127.0.0.1:8000 with SQLite under var/ (creates the first admin, printed once).
serve: install
	DEBUG=$${DEBUG:-1} $(BIN)/python manage.py migrate --noinput
	DEBUG=$${DEBUG:-1} $(BIN)/python manage.py ensure_admin --url http://$(HOST):$(PORT)
	DEBUG=$${DEBUG:-1} $(BIN)/python manage.py runserver $(HOST):$(PORT)

## Run the whole test suite (SQLite by default; DATABASE_URL=postgres://… for PostgreSQL).
test: install
	$(BIN)/python -m pytest $(PYTEST_ARGS)

## The same suite on Python 3.13 with the newest Django 6 (the apps support Django 5.2 LTS and 6.x).
$(VENV_DJANGO6)/.installed: pyproject.toml
	@test -n "$(PYTHON_DJANGO6)" || { echo "Python 3.12+ is needed for Django 6 (pyenv install 3.13)"; exit 1; }
	$(PYTHON_DJANGO6) -m venv $(VENV_DJANGO6)
	$(VENV_DJANGO6)/bin/pip install --quiet --upgrade pip
	$(VENV_DJANGO6)/bin/pip install --quiet -e ".[dev]" "Django>=6.0,<6.2"
	touch $@

test-django6: $(VENV_DJANGO6)/.installed
	$(VENV_DJANGO6)/bin/python -c "import django, sys; print('Django', django.get_version(), 'on Python', sys.version.split()[0])"
	$(VENV_DJANGO6)/bin/python -m pytest $(PYTEST_ARGS)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

migrations-check: install
	$(BIN)/python manage.py makemigrations --check --dry-run

deploy-check: install
	DEBUG=0 SECRET_KEY=$$($(BIN)/python -c 'import secrets; print(secrets.token_urlsafe(64))') \
	ALLOWED_HOSTS=console.example.com PUBLIC_BASE_URL=https://console.example.com \
	$(BIN)/python manage.py check --deploy --fail-level WARNING

clean:
	rm -rf $(VENV) $(VENV_DJANGO6) var/db.sqlite3*

# inrzoo developer entry points. Everything installs into .venv from requirements.lock.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip
STAMP := $(VENV)/.inrzoo-installed
PYTEST_ARGS ?=

.PHONY: install browser test test-unit demo lock services-up services-down clean

install: $(STAMP)

# torch first (the local CPU wheel), then the exact lock, then the project itself (editable,
# without dependencies, so nothing can move a pinned version; this also compiles the closest-point
# library, so its C sources are prerequisites). The stamp makes a re-run a no-op.
$(STAMP): requirements.lock pyproject.toml setup.py $(wildcard platform/inrzoo/geometry/nearest*.[ch])
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade "pip>=24"
	$(PIP) install --quiet torch==2.13.0
	$(PIP) install --quiet -r requirements.lock -c infra/constraints.txt
	$(PIP) install --quiet --no-deps --no-build-isolation -e .
	$(PIP) check
	touch $(STAMP)

# Debian's chromium and chromedriver for the MLflow UI test (apt-get, as root or with sudo -n);
# without them that one test skips and says why.
browser:
	infra/local/browser ensure

test: install browser
	$(PY) -m pytest $(PYTEST_ARGS)

test-unit: install
	$(PY) -m pytest -m "not integration and not slow" $(PYTEST_ARGS)

demo: install
	$(PY) -m inrzoo.demo --config jobs/configs/demo.yaml

# Re-resolve the lock from the current environment (after changing dependencies in pyproject.toml).
lock: install
	$(PIP) freeze --exclude-editable | grep -v '^torch==' > requirements.lock.new
	{ head -n 2 requirements.lock; cat requirements.lock.new; } > requirements.lock.tmp
	mv requirements.lock.tmp requirements.lock && rm requirements.lock.new

services-up: install
	infra/local/up

services-down:
	infra/local/down

clean:
	rm -rf $(VENV) .inrzoo build *.egg-info

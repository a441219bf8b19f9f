# Heartbeat: the commands a developer and CI run. See README.md.
SHELL := /bin/bash
PYTHON_VERSION := $(shell cat .python-version)
VENV := .venv
SAM_VENV := .venv-sam
PY := $(VENV)/bin/python
SAM := $(SAM_VENV)/bin/sam
export SAM_CLI_TELEMETRY ?= 0

.PHONY: install run test test-fast lint build bench clean

# Python 3.13 to match the Lambda runtime: pyenv's, installed if pyenv lacks it, else one on PATH.
define find_python
$(shell if command -v pyenv >/dev/null 2>&1; then pyenv install -s $(PYTHON_VERSION) >/dev/null 2>&1; \
  echo "$$(pyenv root)/versions/$(PYTHON_VERSION)/bin/python3.13"; else command -v python3.13; fi)
endef

$(VENV)/.installed: pyproject.toml layers/heartbeat/requirements.txt
	@test -x "$(call find_python)" || { echo "Python $(PYTHON_VERSION) not found: install it (pyenv install $(PYTHON_VERSION))" >&2; exit 1; }
	"$(call find_python)" -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $@

# aws-sam-cli pins its own boto3 and friends, so it lives in an environment of its own.
$(SAM_VENV)/.installed:
	"$(call find_python)" -m venv $(SAM_VENV)
	$(SAM_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(SAM_VENV)/bin/python -m pip install --quiet 'aws-sam-cli==1.170.0'
	touch $@

# Debian's Chromium and its driver, for the console's browser test (tests/e2e/test_console_browser.py).
BROWSER := /usr/bin/chromium /usr/bin/chromedriver
$(BROWSER):
	@if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver; \
	elif sudo -n true 2>/dev/null; then sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver; \
	else echo "make install: the console's browser test needs Debian's chromium and chromium-driver:" \
	  "run 'sudo apt-get install chromium chromium-driver' (until then that test is skipped)" >&2; fi

install: $(VENV)/.installed $(SAM_VENV)/.installed $(BROWSER)

run: $(VENV)/.installed
	$(VENV)/bin/heartbeat local $(ARGS)

test: $(VENV)/.installed
	$(VENV)/bin/pytest -n 2 --dist loadgroup

lint: $(VENV)/.installed
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy
	@# each function's app.py separately: they share a module name, as Lambda handlers do
	for f in functions/*/app.py; do $(VENV)/bin/mypy $$f || exit 1; done

build: install
	$(SAM) validate --lint
	PATH="$$(dirname "$(call find_python)"):$$PATH" $(SAM) build

bench: install
	$(PY) -m bench.run $(SECTIONS)

clean:
	rm -rf .aws-sam .pytest_cache .mypy_cache .ruff_cache

# Everything a fresh machine needs is installed here: the venv, the Python packages and,
# for the browser tests, Debian's chromium (as root, through apt-get).
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
CHROMIUM ?= /usr/bin/chromium

.PHONY: run test lint venv chromium clean cloud-sync bench bench-full harden

TEST_STAMP := $(VENV)/.installed-test

venv: $(STAMP)

# The appliance itself needs only the runtime packages (a Raspberry Pi need not carry the test tools).
$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e .
	touch $(STAMP)

$(TEST_STAMP): $(STAMP)
	$(PY) -m pip install --quiet -e '.[test]'
	touch $(TEST_STAMP)

chromium:
	@test -x $(CHROMIUM) || { \
	  if [ "$$(id -u)" = 0 ]; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	  else \
	    echo "chromium is missing: run 'sudo apt-get install chromium' (Debian) and try again" >&2; exit 1; \
	  fi; }

run: venv
	$(VENV)/bin/engagements serve

test: $(TEST_STAMP) chromium
	$(VENV)/bin/ruff check .
	$(PY) -m pytest

cloud-sync: venv
	$(VENV)/bin/engagements sync

lint: $(TEST_STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

clean:
	rm -rf $(VENV) build *.egg-info

# Load benchmarks against a real server on 127.0.0.1 (mDNS on loopback only); see docs/performance.md.
bench: venv
	$(PY) -m bench.run --quick

bench-full: venv
	$(PY) -m bench.run --full

# A hostile room (half-open connections, join spam, sockets that ask for snapshots and never read)
# against a real server on loopback, while a normal room plays; see docs/performance.md.
harden: venv
	$(PY) -m bench.harden

# Everything a fresh machine needs is installed here: the venv, the Python packages and,
# for the browser tests, Debian's chromium (as root, through apt-get).
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
CHROMIUM ?= /usr/bin/chromium

.PHONY: run test lint venv chromium clean cloud-sync cloud-package cloud-local cloud-pages deploy bench bench-full bench-cloud fuzz kills harden wheel

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

# The Lambda package of deploy/realtime.yaml and deploy/http.yaml (see deploy/README.md). Its dependencies
# come from PyPI, built for Lambda's CPU: arm64 (Graviton) unless CLOUD_ARCH=x86_64, which must match the
# stacks' Architecture parameter.
CLOUD_ARCH ?= arm64
cloud-package: venv
	$(PY) deploy/package.py --arch $(CLOUD_ARCH) --output artifacts/cloud-lambda.zip

# The serverless stack on this machine: moto (DynamoDB, SQS), the table of deploy/base.yaml and a local API
# Gateway running the handlers of the templates present (a test double of AWS: see docs/cloud-local.md).
CLOUD_TEMPLATES := $(wildcard deploy/realtime.yaml deploy/http.yaml)
cloud-local: $(TEST_STAMP)
	$(PY) -m tests.cloudlocal $(addprefix --template ,$(CLOUD_TEMPLATES))

# The browser pages for the cloud: the same templates rendered once, with the static files, into a directory
# for a static host (docs/cloud.md, "The same pages"). CLOUD_API is the HTTP stack's HttpApiUrl and
# CLOUD_SOCKET a game's WebSocket URL ({game} for its id); the defaults are make cloud-local's.
CLOUD_API ?= http://127.0.0.1:8788
CLOUD_SOCKET ?= ws://127.0.0.1:8787/dev?game={game}
CLOUD_PAGES ?= build/cloud-pages
cloud-pages: venv
	$(PY) -m web.pages --api '$(CLOUD_API)' --socket '$(CLOUD_SOCKET)' --output $(CLOUD_PAGES)

# One environment of the cloud, deployed from this checkout (docs/cloud.md, "Deploying"): the Lambda package
# (as make cloud-package), the five stacks through change sets, the pages, then the URLs. ENV is dev,
# staging or prod; DEPLOY_OPTIONS adds options, e.g. --dry-run, --region eu-west-1, --profile ops.
ENV ?= dev
DEPLOY_OPTIONS ?=
deploy: venv
	$(VENV)/bin/engagements deploy --env $(ENV) --arch $(CLOUD_ARCH) $(DEPLOY_OPTIONS)

# The appliance in one file for a venue machine (README, "A venue appliance you install once"): templates,
# static files, the types' browser modules and the sample packs included. An earlier build's staging goes
# first: a file deleted since would go into the wheel too.
wheel: venv
	rm -rf build/lib build/bdist.*
	$(PY) -m pip wheel --quiet --no-deps --wheel-dir dist .

# The tests lint the stacks in a few regions (tests/guard.py, LINT_REGIONS); this lints them in every one,
# the web stack in every one with CloudFront (not the China and GovCloud partitions).
lint: $(TEST_STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/cfn-lint --regions ALL_REGIONS --include-checks I -- $(filter-out deploy/web.yaml,$(wildcard deploy/*.yaml))
	$(VENV)/bin/cfn-lint --include-checks I --regions $$($(PY) -c "from cfnlint.api import REGIONS; \
	  print(*(r for r in REGIONS if not r.startswith(('cn-', 'us-gov-'))))") -- deploy/web.yaml

clean:
	rm -rf $(VENV) build *.egg-info

# Load benchmarks against a real server on 127.0.0.1 (mDNS on loopback only); see docs/performance.md.
bench: venv
	$(PY) -m bench.run --quick

bench-full: venv
	$(PY) -m bench.run --full

# The serverless stack on the local gateway and moto (bench/cloud.py): games of CLOUD_PLAYERS (sizes, comma
# separated) through its WebSocket and HTTP APIs; DynamoDB reads and writes per command, invocations,
# messages. Figures in docs/cloud.md. CLOUD_ARGS=--quiz plays a quiz instead.
CLOUD_PLAYERS ?= 30,100
CLOUD_ARGS ?=
bench-cloud: $(TEST_STAMP)
	$(PY) -m bench.cloud --players $(CLOUD_PLAYERS) $(CLOUD_ARGS)

# The kill -9 campaign (bench/kills.py): kills during joins, answers, votes, phase changes and results;
# prints the lost acknowledged commands, ghost seats and visible rollbacks (all must be 0).
KILLS ?= 30
kills: venv
	$(PY) -m bench.kills --kills $(KILLS)

# Hypothesis-generated WebSocket messages and HTTP requests against a real server (tests/fuzzing.py):
# at least FUZZ_MESSAGES of them, then the figures. The normal test run fuzzes a bounded sample.
FUZZ_MESSAGES ?= 100000
fuzz: $(TEST_STAMP)
	FUZZ_MESSAGES=$(FUZZ_MESSAGES) FUZZ_EXAMPLES=1000 $(PY) -m pytest tests/test_fuzz.py -q -s -p no:cacheprovider

# A hostile room (half-open connections, join spam, sockets that ask for snapshots and never read)
# against a real server on loopback, while a normal room plays; see docs/performance.md.
harden: venv
	$(PY) -m bench.harden

# The two commands a fresh machine needs: `make demo` and `make test`. Each sets itself up idempotently.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
export PATH := $(CURDIR)/.tools/bin:$(CURDIR)/$(VENV)/bin:$(PATH)
export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: all venv tools lint test test-fast demo bench fuzz fuzz-atheris lock audit image clean

all: test

$(STAMP): pyproject.toml requirements.lock
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q -r requirements.lock
	$(PY) -m pip install -q --no-deps -e .
	touch $(STAMP)

venv: $(STAMP)

## tools: build/install the pinned real tools (kube-apiserver, etcd, helm, kustomize, kubeconform, yq, conftest,
## docker-registry, skopeo, umoci) into ~/.cache/handoff-tools and link them into .tools/bin.
tools:
	bash tools/install.sh

lint: venv
	$(VENV)/bin/ruff check handoff tests bench
	$(VENV)/bin/mypy --strict handoff
	$(VENV)/bin/lint-imports

test: venv tools lint
	$(VENV)/bin/pytest -q $(PYTEST_ARGS)

test-fast: venv
	$(VENV)/bin/pytest -q -m "not tools and not slow" $(PYTEST_ARGS)

demo: venv
	bash examples/demo.sh

bench: venv tools
	$(PY) bench/run.py

## fuzz: longer Hypothesis runs over the image-reference grammar, the YAML splice engine, the config loader
## and the report writers (make test runs them briefly).
fuzz: venv
	HANDOFF_FUZZ_EXAMPLES=$${HANDOFF_FUZZ_EXAMPLES:-2000} $(VENV)/bin/pytest -q tests/security -k fuzz

## fuzz-atheris: coverage-guided fuzzing of the splice engine and the image-reference grammar (on demand).
fuzz-atheris: venv
	$(PY) -c "import atheris" 2>/dev/null || $(PY) -m pip install -q "atheris==3.0.0"
	$(PY) tests/security/fuzz_splice.py -runs=$${FUZZ_RUNS:-20000} -max_len=4096 -artifact_prefix=/tmp/
	$(PY) tests/security/fuzz_imageref.py -runs=$${FUZZ_RUNS:-200000} -max_len=400 -artifact_prefix=/tmp/

## image: build the container image with buildah (no Docker engine needed) and smoke-test it.
image: venv tools
	bash tools/build-image.sh

## lock: re-resolve the pinned dependency set (run after changing pyproject.toml dependencies).
lock:
	rm -rf /tmp/handoff-lock-venv && $(PYTHON) -m venv /tmp/handoff-lock-venv
	/tmp/handoff-lock-venv/bin/pip install -q '.[dev]'
	/tmp/handoff-lock-venv/bin/pip freeze --exclude handoff-gitops > requirements.lock

## audit: check every locked pin against PyPI's vulnerability data (tools/audit.py says why not plain pip-audit).
## Exit 1: a vulnerable, yanked or missing pin; exit 2: PyPI unreachable or too little coverage.
audit: venv
	$(PY) tools/audit.py -r requirements.lock

clean:
	rm -rf $(VENV) .tools .pytest_cache .mypy_cache .ruff_cache

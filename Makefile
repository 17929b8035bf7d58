# The two commands a fresh machine needs: `make demo` and `make test`. Each sets itself up idempotently.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
export PATH := $(CURDIR)/.tools/bin:$(CURDIR)/$(VENV)/bin:$(PATH)
export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: all venv tools lint test test-fast demo bench fuzz lock audit image clean

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

## image: build the container image with buildah (no Docker engine needed) and smoke-test it.
image: venv tools
	bash tools/build-image.sh

## lock: re-resolve the pinned dependency set (run after changing pyproject.toml dependencies).
lock:
	rm -rf /tmp/handoff-lock-venv && $(PYTHON) -m venv /tmp/handoff-lock-venv
	/tmp/handoff-lock-venv/bin/pip install -q '.[dev]'
	/tmp/handoff-lock-venv/bin/pip freeze --exclude handoff > requirements.lock

audit: venv
	$(VENV)/bin/pip-audit -r requirements.lock --progress-spinner off

clean:
	rm -rf $(VENV) .tools .pytest_cache .mypy_cache .ruff_cache

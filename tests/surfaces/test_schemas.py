"""The CI definitions are what their platforms accept: validated against the published schemas."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from ruamel.yaml import YAML

from .gha import load_action
from .paths import REPO, SCHEMAS

ACTION = REPO / "actions" / "handoff"
COMPONENT = REPO / "gitlab-templates" / "templates" / "handoff.yml"
CLASSIC = REPO / "gitlab-templates" / "handoff.gitlab-ci.yml"


def _validator(name: str) -> jsonschema.Draft7Validator:
    schema = json.loads((SCHEMAS / name).read_text())
    return jsonschema.Draft7Validator(schema)


def _errors(validator: jsonschema.Draft7Validator, doc: Any) -> list[str]:
    return [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(doc)]


def _yaml_documents(path: Path) -> list[Any]:
    return list(YAML(typ="safe").load_all(path.read_text()))


def test_action_matches_schemastore_schema() -> None:
    assert _errors(_validator("github-action.json"), load_action(ACTION)) == []


def test_schema_check_catches_a_broken_action() -> None:
    broken = load_action(ACTION)
    first_run = next(step for step in broken["runs"]["steps"] if "run" in step)
    first_run.pop("shell")  # composite run steps must name a shell
    assert _errors(_validator("github-action.json"), broken)


@pytest.mark.parametrize("path", [COMPONENT, CLASSIC], ids=["component", "classic"])
def test_gitlab_files_match_gitlab_ci_schema(path: Path) -> None:
    validator = _validator("gitlab-ci.json")
    for doc in _yaml_documents(path):
        assert _errors(validator, doc) == []


def test_component_has_a_spec_header_and_typed_inputs() -> None:
    header, jobs = _yaml_documents(COMPONENT)
    inputs = header["spec"]["inputs"]
    assert {"stage", "job-prefix", "app", "env", "image", "config-repo", "token-variable"} <= set(inputs)
    assert inputs["draft"]["type"] == "boolean" and inputs["command"]["options"] == ["propose", "validate"]
    assert all(spec.get("description") for spec in inputs.values())
    # A component must not change the including pipeline's globals.
    assert not {"default", "variables", "workflow", "stages"} & set(jobs)


def test_gitlab_schema_check_catches_a_broken_job() -> None:
    _, jobs = _yaml_documents(COMPONENT)
    job = next(iter(jobs.values()))
    job["artifacts"]["reports"]["dotenv"] = {"not": "a path"}
    assert _errors(_validator("gitlab-ci.json"), jobs)


def test_inputs_never_reach_run_scripts_through_expressions() -> None:
    action = load_action(ACTION)
    for step in action["runs"]["steps"]:
        assert "${{" not in step.get("run", ""), step
    mapped = {
        m.group(1)
        for step in action["runs"]["steps"]
        for value in (step.get("env") or {}).values()
        for m in re.finditer(r"inputs\.([a-z-]+)", str(value))
    }
    # Every input (except the cache switch, used in `if:`) reaches the scripts through env:.
    assert set(action["inputs"]) - {"cache"} == mapped

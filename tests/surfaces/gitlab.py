"""Include a GitLab CI/CD component the way GitLab does, then run a job's script as the runner does.

- ``spec:inputs`` are checked (type, options, regex) and defaults applied;
- ``$[[ inputs.x ]]`` is interpolated at include time in every string of the parsed YAML, keys included;
  a string that is exactly one interpolation keeps the input's type (boolean, number);
- job variables are exported (GitLab expands ``$VAR`` references in them, not shell syntax);
- the ``script:`` lines run in one shell with ``set -eo pipefail`` and GitLab's predefined variables.
"""

from __future__ import annotations

import re
import subprocess
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML

_BLOCK = re.compile(r"\$\[\[\s*inputs\.([A-Za-z0-9_-]+)\s*\]\]")


def include_component(path: Path, inputs: Mapping[str, Any]) -> dict[str, Any]:
    header, body = list(YAML(typ="safe").load_all(path.read_text()))
    specs = header["spec"]["inputs"]
    unknown = set(inputs) - set(specs)
    assert not unknown, f"unknown inputs {unknown}"
    values: dict[str, Any] = {}
    for name, spec in specs.items():
        if name in inputs:
            value = inputs[name]
        else:
            assert "default" in spec, f"input {name} is required"
            value = spec["default"]
        kind = spec.get("type", "string")
        assert isinstance(value, {"string": str, "boolean": bool, "number": int | float}[kind]), name
        if "options" in spec:
            assert value in spec["options"], f"{name}: {value!r} not in options"
        if "regex" in spec:
            assert re.search(spec["regex"], value), f"{name}: {value!r} does not match {spec['regex']}"
        values[name] = value
    result = _interpolate(body, values)
    assert isinstance(result, dict)
    return result


def _interpolate(node: Any, values: Mapping[str, Any]) -> Any:
    if isinstance(node, dict):
        return {_interpolate(k, values): _interpolate(v, values) for k, v in node.items()}
    if isinstance(node, list):
        return [_interpolate(v, values) for v in node]
    if isinstance(node, str):
        whole = _BLOCK.fullmatch(node)
        if whole:
            return values[whole.group(1)]
        return _BLOCK.sub(lambda m: _as_text(values[m.group(1)]), node)
    return node


def _as_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def predefined_variables(project_dir: Path) -> dict[str, str]:
    return {
        "CI": "true",
        "GITLAB_CI": "true",
        "CI_SERVER_URL": "https://gitlab.example.com",
        "CI_API_V4_URL": "https://gitlab.example.com/api/v4",
        "CI_PROJECT_DIR": str(project_dir),
        "CI_PROJECT_PATH": "acme/web",
        "CI_PIPELINE_SOURCE": "push",
        "CI_COMMIT_SHA": "0" * 40,
        "CI_COMMIT_SHORT_SHA": "00000000",
        "CI_COMMIT_REF_NAME": "main",
        "CI_JOB_NAME": "handoff",
        "CI_JOB_TOKEN": "job-token-not-for-other-projects",
    }


def expand_variables(variables: Mapping[str, Any], env: Mapping[str, str]) -> dict[str, str]:
    out: dict[str, str] = {}
    for name, raw in variables.items():
        value = raw["value"] if isinstance(raw, dict) else raw
        text = _as_text(value)
        if not (isinstance(raw, dict) and raw.get("expand") is False):
            scope = {**env, **out}
            text = re.sub(r"\$(?:\{([A-Za-z_][A-Za-z0-9_]*)\}|([A-Za-z_][A-Za-z0-9_]*))",
                          lambda m, scope=scope: scope.get(m.group(1) or m.group(2), ""), text)
        out[name] = text
    return out


def run_job(job: Mapping[str, Any], project_dir: Path, base_env: Mapping[str, str]) -> subprocess.CompletedProcess[str]:
    env = {**base_env, **predefined_variables(project_dir)}
    env.update(expand_variables(job.get("variables") or {}, env))
    script = "set -eo pipefail\n" + "\n".join(job["script"]) + "\n"
    return subprocess.run(["bash", "--noprofile", "--norc", "-c", script], cwd=project_dir, env=env,
                          capture_output=True, text=True, check=False, timeout=600)

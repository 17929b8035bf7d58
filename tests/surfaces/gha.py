"""Run a composite action's steps the way the GitHub runner does, close enough to catch what matters:

- expressions (``${{ … }}``) are evaluated in ``env:``, ``with:``, ``if:`` and the action's outputs,
  never in ``run:`` (the action must not use them there: that is the script-injection hole);
- each ``run:`` is written to a file and run as ``bash --noprofile --norc -eo pipefail {0}``;
- each step gets fresh ``GITHUB_OUTPUT``, ``GITHUB_STEP_SUMMARY``, ``GITHUB_ENV`` and ``GITHUB_PATH``
  files, read back after it (``name=value`` and ``name<<DELIM`` forms);
- ``GITHUB_*``/``RUNNER_*`` context variables and ``GITHUB_ACTION_PATH`` are set;
- workflow commands on stdout (``::error …::``, ``::add-mask::``) are collected per step;
- ``actions/cache`` hits when its path exists (left by an earlier run), else misses;
  ``actions/setup-python`` answers with the runner's ``python3`` (its ``python-path`` output); other
  ``uses:`` are refused;
- ``GITHUB_OUTPUT`` is kept as written (``StepRun.output_file``), so a test can see a key written twice.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML

BASH = ["bash", "--noprofile", "--norc", "-eo", "pipefail"]


@dataclass
class Annotation:
    level: str
    properties: dict[str, str]
    message: str


@dataclass
class StepRun:
    id: str
    skipped: bool
    returncode: int = 0
    stdout: str = ""
    stderr: str = ""
    outputs: dict[str, str] = field(default_factory=dict)
    output_file: str = ""
    summary: str = ""
    annotations: list[Annotation] = field(default_factory=list)


@dataclass
class ActionRun:
    outputs: dict[str, str]
    steps: list[StepRun]
    masks: list[str]
    failed: bool

    @property
    def summary(self) -> str:
        return "".join(s.summary for s in self.steps)

    @property
    def annotations(self) -> list[Annotation]:
        return [a for s in self.steps for a in s.annotations]

    def step(self, step_id: str) -> StepRun:
        return next(s for s in self.steps if s.id == step_id)

    def log(self) -> str:
        return "".join(s.stdout + s.stderr for s in self.steps)


def load_action(action_dir: Path) -> dict[str, Any]:
    data = YAML(typ="safe").load((action_dir / "action.yml").read_text())
    assert isinstance(data, dict)
    return data


def run_action(
    action_dir: Path,
    inputs: Mapping[str, str],
    *,
    workspace: Path,
    runner_temp: Path,
    base_env: Mapping[str, str],
    timeout: float = 600,
    github_token: str = "",
    runner_os: str = "Linux",
) -> ActionRun:
    action = load_action(action_dir)
    declared = action.get("inputs") or {}
    unknown = set(inputs) - set(declared)
    assert not unknown, f"inputs not declared by the action: {unknown}"
    input_ctx: dict[str, str] = {}
    context: dict[str, Any] = {
        "inputs": input_ctx,
        "github": {
            "action_path": str(action_dir),
            "workspace": str(workspace),
            "repository": "acme/web",
            "sha": "0" * 40,
            "ref": "refs/heads/main",
            "event_name": "push",
            "server_url": "https://github.com",
            "run_id": "1",
            "action_ref": "v1",
            "token": github_token,
        },
        "runner": {
            "os": runner_os,
            "arch": "X64",
            "temp": str(runner_temp),
            "tool_cache": str(runner_temp / "toolcache"),
        },
        "steps": {},
        "env": {},
    }
    # Defaults may be expressions (`${{ github.token }}`): the runner evaluates them, inputs given are literal.
    for name, spec in declared.items():
        input_ctx[name] = str(inputs[name]) if name in inputs else str(substitute(str(spec.get("default", "")), context))
    job_env = {
        **base_env,
        "CI": "true",
        "GITHUB_ACTIONS": "true",
        "GITHUB_WORKSPACE": str(workspace),
        "GITHUB_REPOSITORY": "acme/web",
        "GITHUB_SHA": "0" * 40,
        "GITHUB_REF": "refs/heads/main",
        "GITHUB_EVENT_NAME": "push",
        "GITHUB_SERVER_URL": "https://github.com",
        "GITHUB_API_URL": "https://api.github.com",
        "GITHUB_RUN_ID": "1",
        "GITHUB_ACTION_PATH": str(action_dir),
        "GITHUB_ACTION_REPOSITORY": "acme/handoff",
        "GITHUB_ACTION_REF": "v1",
        "RUNNER_OS": runner_os,
        "RUNNER_ARCH": "X64",
        "RUNNER_TEMP": str(runner_temp),
        "RUNNER_TOOL_CACHE": str(runner_temp / "toolcache"),
    }
    steps: list[StepRun] = []
    masks: list[str] = []
    failed = False
    for index, step in enumerate(action["runs"]["steps"]):
        step_id = str(step.get("id", f"__{index}"))
        condition = _strip_braces(str(step.get("if", "success()")))
        if not re.search(r"\b(success|failure|always|cancelled)\(", condition):
            condition = f"success() && ({condition})"  # GitHub's implicit status check
        if not truthy(evaluate_expression(_strip_braces(condition), context, failed=failed)):
            steps.append(StepRun(id=step_id, skipped=True))
            context["steps"][step_id] = {"outputs": {}, "outcome": "skipped", "conclusion": "skipped"}
            continue
        if "uses" in step:
            ran = _run_uses(step_id, step, context, job_env)
        else:
            ran = _run_shell(step_id, step, context, job_env, runner_temp, index, masks, timeout)
        steps.append(ran)
        outcome = "success" if ran.returncode == 0 else "failure"
        context["steps"][step_id] = {"outputs": ran.outputs, "outcome": outcome, "conclusion": outcome}
        failed = failed or ran.returncode != 0
    outputs = {
        name: str(substitute(str(spec.get("value", "")), context))
        for name, spec in (action.get("outputs") or {}).items()
    }
    return ActionRun(outputs=outputs, steps=steps, masks=masks, failed=failed)


def _run_uses(step_id: str, step: Mapping[str, Any], context: dict[str, Any],
              job_env: Mapping[str, str]) -> StepRun:
    uses = str(step["uses"])
    with_ = {k: substitute(str(v), context) for k, v in (step.get("with") or {}).items()}
    if uses.startswith("actions/setup-python@"):
        python = shutil.which("python3", path=job_env["PATH"])
        assert python, "the runner's PATH has no python3"
        version = subprocess.run([python, "-c", "import sys; print('%d.%d.%d' % sys.version_info[:3])"],
                                 capture_output=True, text=True, check=True).stdout.strip()
        assert str(with_.get("update-environment")).lower() == "false", "setup-python must not change the job's python"
        return StepRun(id=step_id, skipped=False, outputs={"python-path": python, "python-version": version})
    assert uses.startswith("actions/cache@"), f"this runner only knows actions/cache and setup-python, not {uses}"
    assert with_.get("path") and with_.get("key"), "actions/cache needs a path and a key"
    # A path left by an earlier run stands for a cache entry saved under the same key and restored.
    hit = Path(with_["path"]).exists()
    return StepRun(id=step_id, skipped=False, outputs={"cache-hit": "true" if hit else "false"})


def _run_shell(
    step_id: str,
    step: Mapping[str, Any],
    context: dict[str, Any],
    job_env: dict[str, str],
    runner_temp: Path,
    index: int,
    masks: list[str],
    timeout: float,
) -> StepRun:
    assert step.get("shell") == "bash", "composite run steps must name their shell"
    script = str(step["run"])
    assert "${{" not in script, f"step {step_id}: expression inside run: is a script-injection hole"
    files = {
        name: runner_temp / f"_runner_file_commands/{name.lower()}_{index}"
        for name in ("GITHUB_OUTPUT", "GITHUB_STEP_SUMMARY", "GITHUB_ENV", "GITHUB_PATH")
    }
    for path in files.values():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("")
    script_file = runner_temp / f"_temp_step_{index}.sh"
    script_file.write_text(script)
    step_env = {k: str(substitute(str(v), context)) for k, v in (step.get("env") or {}).items()}
    env = {**job_env, **{k: str(v) for k, v in files.items()}, "GITHUB_ACTION": step_id, **step_env}
    workdir = step.get("working-directory")
    cwd = Path(substitute(str(workdir), context)) if workdir else Path(job_env["GITHUB_WORKSPACE"])
    proc = subprocess.run(
        [*BASH, str(script_file)], check=False, env=env, cwd=cwd, capture_output=True, text=True, timeout=timeout
    )
    annotations = []
    for line in proc.stdout.splitlines():
        command = parse_workflow_command(line)
        if command is None:
            continue
        if command.level == "add-mask":
            masks.append(command.message)
        elif command.level in ("error", "warning", "notice"):
            annotations.append(command)
    for key, value in parse_env_file(files["GITHUB_ENV"].read_text()).items():
        job_env[key] = value
    for entry in reversed(files["GITHUB_PATH"].read_text().splitlines()):
        if entry:
            job_env["PATH"] = f"{entry}{os.pathsep}{job_env['PATH']}"
    return StepRun(
        id=step_id,
        skipped=False,
        returncode=proc.returncode,
        stdout=proc.stdout,
        stderr=proc.stderr,
        outputs=parse_env_file(files["GITHUB_OUTPUT"].read_text()),
        output_file=files["GITHUB_OUTPUT"].read_text(),
        summary=files["GITHUB_STEP_SUMMARY"].read_text(),
        annotations=annotations,
    )


def parse_env_file(text: str) -> dict[str, str]:
    """The runner's parser for GITHUB_OUTPUT/GITHUB_ENV: ``k=v`` or ``k<<DELIM`` … ``DELIM``."""
    values: dict[str, str] = {}
    lines = text.split("\n")
    i = 0
    while i < len(lines):
        line = lines[i]
        i += 1
        if not line:
            continue
        eq, heredoc = line.find("="), line.find("<<")
        if heredoc != -1 and (eq == -1 or heredoc < eq):
            name, delimiter = line[:heredoc], line[heredoc + 2 :]
            body = []
            while lines[i] != delimiter:
                body.append(lines[i])
                i += 1
            i += 1
            values[name] = "\n".join(body)
        else:
            assert eq > 0, f"invalid line in file command: {line!r}"
            values[line[:eq]] = line[eq + 1 :]
    return values


_COMMAND = re.compile(r"^::([a-z-]+)(?: ([^:]*))?::(.*)$")


def _unescape(text: str) -> str:
    return text.replace("%0D", "\r").replace("%0A", "\n").replace("%3A", ":").replace("%2C", ",").replace(
        "%25", "%"
    )


def parse_workflow_command(line: str) -> Annotation | None:
    match = _COMMAND.match(line)
    if match is None:
        return None
    props = {}
    for item in (match.group(2) or "").split(","):
        if "=" in item:
            key, value = item.split("=", 1)
            props[key.strip()] = _unescape(value)
    return Annotation(level=match.group(1), properties=props, message=_unescape(match.group(3)))


# --- expressions ---------------------------------------------------------------------------------

_TEMPLATE = re.compile(r"\$\{\{(.*?)\}\}", re.S)
_TOKEN = re.compile(
    r"\s*(?:(?P<str>'(?:[^']|'')*')|(?P<num>-?\d+(?:\.\d+)?)|(?P<op>==|!=|&&|\|\||<=|>=|[!<>(),.\[\]])"
    r"|(?P<name>[A-Za-z_][A-Za-z0-9_-]*))"
)


def _strip_braces(text: str) -> str:
    text = text.strip()
    match = _TEMPLATE.fullmatch(text)
    return match.group(1) if match else text


def substitute(text: str, context: Mapping[str, Any]) -> Any:
    """Evaluate ``${{ }}`` templates in a string as GitHub does for ``env:``/``with:``/outputs."""
    whole = _TEMPLATE.fullmatch(text.strip())
    if whole:
        return to_string(evaluate_expression(whole.group(1), context))
    return _TEMPLATE.sub(lambda m: to_string(evaluate_expression(m.group(1), context)), text)


def to_string(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def truthy(value: Any) -> bool:
    return value not in (None, False, 0, "")


def evaluate_expression(text: str, context: Mapping[str, Any], *, failed: bool = False) -> Any:
    tokens = []
    pos = 0
    text = text.strip()
    while pos < len(text):
        match = _TOKEN.match(text, pos)
        assert match and match.end() > pos, f"cannot parse expression {text!r} at {pos}"
        tokens.append((match.lastgroup, match.group(match.lastgroup or "")))
        pos = match.end()
    parser = _Parser(tokens, context, failed)
    value = parser.parse_or()
    assert parser.i == len(tokens), f"trailing tokens in {text!r}"
    return value


class _Parser:
    def __init__(self, tokens: list[tuple[str | None, str]], context: Mapping[str, Any], failed: bool):
        self.tokens = tokens
        self.i = 0
        self.context = context
        self.failed = failed

    def peek(self) -> str | None:
        return self.tokens[self.i][1] if self.i < len(self.tokens) else None

    def take(self) -> tuple[str | None, str]:
        token = self.tokens[self.i]
        self.i += 1
        return token

    def parse_or(self) -> Any:
        left = self.parse_and()
        while self.peek() == "||":
            self.take()
            right = self.parse_and()
            left = left if truthy(left) else right
        return left

    def parse_and(self) -> Any:
        left = self.parse_cmp()
        while self.peek() == "&&":
            self.take()
            right = self.parse_cmp()
            left = right if truthy(left) else left
        return left

    def parse_cmp(self) -> Any:
        left = self.parse_unary()
        while self.peek() in ("==", "!="):
            op = self.take()[1]
            right = self.parse_unary()
            equal = _loose(left) == _loose(right)
            left = equal if op == "==" else not equal
        return left

    def parse_unary(self) -> Any:
        if self.peek() == "!":
            self.take()
            return not truthy(self.parse_unary())
        return self.parse_primary()

    def parse_primary(self) -> Any:
        kind, value = self.take()
        if value == "(":
            inner = self.parse_or()
            assert self.take()[1] == ")"
            return inner
        if kind == "str":
            return value[1:-1].replace("''", "'")
        if kind == "num":
            return float(value)
        assert kind == "name", f"unexpected token {value!r}"
        if value in ("true", "false"):
            return value == "true"
        if value == "null":
            return None
        if self.peek() == "(":
            return self.call(value)
        current: Any = self.context.get(value)
        while self.peek() in (".", "["):
            if self.take()[1] == ".":
                key = self.take()[1]
            else:
                key = str(self.parse_or())
                assert self.take()[1] == "]"
            current = current.get(key) if isinstance(current, Mapping) else None
        return current

    def call(self, name: str) -> Any:
        self.take()
        args = []
        while self.peek() != ")":
            args.append(self.parse_or())
            if self.peek() == ",":
                self.take()
        self.take()
        functions = {
            "success": lambda: not self.failed,
            "failure": lambda: self.failed,
            "always": lambda: True,
            "cancelled": lambda: False,
            "contains": lambda a, b: str(b).lower() in str(a).lower(),
            "startsWith": lambda a, b: str(a).lower().startswith(str(b).lower()),
        }
        return functions[name](*args)


def _loose(value: Any) -> Any:
    # GitHub compares strings case-insensitively and coerces booleans/numbers when types differ.
    if isinstance(value, str):
        return value.lower()
    return value

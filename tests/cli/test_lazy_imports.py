"""Start-up cost is import cost: `handoff --help`, `--version` and `handoff bump` load only what they use.

Each case runs the command's ``main`` in a fresh interpreter and reads back ``sorted(sys.modules)``;
the assertions are on module sets, never on timings (bench/bench_startup.py measures those).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import click
import pytest

from handoff.cli import COMMANDS, SUMMARIES, cli, main

# Loaded only by the commands that talk to a forge, a cluster or a registry, render, or validate.
HEAVY = ("requests", "urllib3", "github", "gitlab", "kubernetes_validate", "jsonschema", "jsonschema_rs",
         "cel", "regopy", "prometheus_client", "docker")
SERVICES = ("handoff.reconciler", "handoff.render", "handoff.validate", "handoff.policy", "handoff.forge",
            "handoff.kube", "handoff.registry", "handoff.git", "handoff.workflows")

_PROBE = """
import json, sys
from handoff.cli import main
code = main(sys.argv[1:])
print(json.dumps({"code": code, "modules": sorted(sys.modules)}))
"""


def imported_by(argv: list[str], cwd: Path) -> set[str]:
    done = subprocess.run([sys.executable, "-c", _PROBE, *argv], cwd=cwd, capture_output=True, text=True,
                          check=True, timeout=120)
    result = json.loads(done.stdout.splitlines()[-1])
    assert result["code"] == 0, done.stderr
    return set(result["modules"])


def loaded(modules: set[str], packages: tuple[str, ...]) -> list[str]:
    return sorted(m for m in modules if any(m == p or m.startswith(p + ".") for p in packages))


@pytest.mark.parametrize("argv", [["--help"], ["--version"]])
def test_help_and_version_import_no_command(argv: list[str], tmp_path: Path) -> None:
    """The top-level help lists every command from the registry, importing none of them."""
    modules = imported_by(argv, tmp_path)
    assert loaded(modules, HEAVY + SERVICES) == []
    assert loaded(modules, tuple(target.split(":")[0] for target in COMMANDS.values())) == []
    assert loaded(modules, ("ruamel", "yaml", "yaml_rs", "handoff.edit", "handoff.config")) == []


def test_bump_of_a_marker_repo_imports_only_the_editor(tmp_path: Path) -> None:
    """A marker-only bump needs the YAML editor and nothing that renders, validates or talks to a server."""
    (tmp_path / "apps.yaml").write_text("image: example.com/team/web:1.0.0 # handoff:image web\n")
    modules = imported_by(["bump", "--image", "example.com/team/web:1.1.0", "--config-repo", "."], tmp_path)
    assert (tmp_path / "apps.yaml").read_text() == "image: example.com/team/web:1.1.0 # handoff:image web\n"
    assert loaded(modules, HEAVY + SERVICES) == ["handoff.workflows", "handoff.workflows.verify"]  # bump's own
    assert "handoff.edit.bump" in modules


def test_bump_with_a_config_file_adds_only_the_schema_check(tmp_path: Path) -> None:
    """With a .handoff.yaml the config is schema-checked (jsonschema_rs); still nothing else heavy."""
    (tmp_path / ".handoff.yaml").write_text(
        "apps:\n  web:\n    targets:\n      - {type: helm, path: values.yaml, image: image}\n")
    (tmp_path / "values.yaml").write_text("image: example.com/team/web:1.0.0\n")
    modules = imported_by(["bump", "--image", "example.com/team/web:1.1.0", "--app", "web",
                           "--config-repo", "."], tmp_path)
    assert (tmp_path / "values.yaml").read_text() == "image: example.com/team/web:1.1.0\n"
    assert "jsonschema_rs" in modules
    assert loaded(modules, tuple(p for p in HEAVY if p != "jsonschema_rs") + SERVICES) == [
        "handoff.workflows", "handoff.workflows.verify"]  # the render-verified bump; it renders nothing here


def test_help_summaries_are_the_commands_own(tmp_path: Path) -> None:
    """Every registered command has a summary, equal to its docstring's short help, so --help never drifts
    from `handoff COMMAND --help`; and the listing is what click would print by importing each command."""
    ctx = click.Context(cli)
    assert sorted(SUMMARIES) == sorted(COMMANDS), "add the new command's short help to SUMMARIES"
    for name in COMMANDS:
        command = cli.get_command(ctx, name)
        assert command is not None
        assert SUMMARIES[name] == command.get_short_help_str(limit=1000), name
    listed = subprocess.run([sys.executable, "-m", "handoff", "--help"], cwd=tmp_path, capture_output=True,
                            text=True, check=True, timeout=120).stdout
    formatter = ctx.make_formatter()
    click.Group.format_commands(cli, ctx, formatter)
    assert formatter.getvalue() in listed


def test_a_command_without_a_summary_is_still_listed(monkeypatch: pytest.MonkeyPatch,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    """A command registered without a summary is imported to list it: slower, never missing from --help."""
    monkeypatch.setitem(COMMANDS, "bump-again", COMMANDS["bump"])
    assert main(["--help"]) == 0
    listed = {line.split()[0]: line.split(None, 1)[1] for line in capsys.readouterr().out.split("Commands:")[1]
              .splitlines() if line.strip()}
    assert listed["bump-again"] == SUMMARIES["bump"]


def test_schema_only_validate_loads_no_policy_engine(tmp_path: Path) -> None:
    """`validate --no-builtin` of plain manifests in one process needs the schemas alone: no CEL bindings,
    no ruamel.yaml (policy and config files only), no process pool; with the pack, CEL but still no pool."""
    (tmp_path / "cm.yaml").write_text("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n")
    unused = ("cel", "regopy", "ruamel", "multiprocessing", "concurrent", "handoff.policy.cel_engine")
    modules = imported_by(["validate", "--no-builtin", "--engine", "builtin", "cm.yaml"], tmp_path)
    assert "jsonschema_rs" in modules
    assert loaded(modules, unused) == []
    modules = imported_by(["validate", "--engine", "builtin", "cm.yaml"], tmp_path)
    assert "handoff.policy.cel_engine" in modules
    assert loaded(modules, ("multiprocessing", "concurrent")) == []

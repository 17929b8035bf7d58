"""The README's `.handoff.yaml` example is what a new user copies first: it must load as written."""

from __future__ import annotations

import re
from pathlib import Path

from handoff.config import load_config

README = Path(__file__).resolve().parents[2] / "README.md"


def _config_example() -> str:
    text = README.read_text(encoding="utf-8")
    section = text.split("## The config repo: `.handoff.yaml`", 1)[1]
    match = re.search(r"```yaml\n(.*?)```", section, re.S)
    assert match, "README lost its .handoff.yaml example"
    return match.group(1)


def test_readme_config_example_loads(tmp_path: Path) -> None:
    (tmp_path / ".handoff.yaml").write_text(_config_example(), encoding="utf-8")
    config = load_config(tmp_path)
    assert config is not None
    assert set(config.environments) == {"dev", "prod"}
    web = config.apps["web"]
    assert web.image == "ghcr.io/acme/web"
    assert [t.type for t in web.targets] == ["helm", "kustomize", "manifest", "marker"]
    assert config.waivers[0].policy == "require-probes"

from __future__ import annotations

import tomllib
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
SCHEMAS = Path(__file__).parent / "schemas"


def packaging_gaps() -> list[str]:
    """What a plain (non-editable) ``pip install handoff-gitops`` lacks today, as the action, pre-commit and
    the image install it. Tests that depend on it are strict xfails naming these until they are fixed."""
    project = tomllib.loads((REPO / "pyproject.toml").read_text())
    gaps = []
    deps = project["project"]["dependencies"]
    if not any(d.lower().replace("-", "").startswith("pyyaml") for d in deps):
        gaps.append("handoff imports yaml (render/yamldocs.py, reconciler) but PyYAML is not a dependency")
    package_data = project["tool"]["setuptools"]["package-data"]
    if not any("builtin_pack" in pattern for patterns in package_data.values() for pattern in patterns):
        gaps.append("package-data leaves out handoff/policy/builtin_pack (a symlink to policies/): "
                    "'policies: policy directory does not exist'")
    return gaps

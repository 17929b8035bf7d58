"""atk13k: a forged ``# Source:`` line still makes handoff's own process open the checkout's ``.git/config``.

Attack. The atk13j fix (``_template_file`` in ``handoff/render/helm.py``) accepts any regular file under 5 MiB
that resolves inside the chart. For a chart at the repo root that includes the top-level ``.git`` which helm is
never given (``_without_git``) and the fence hides (``fence.py`` "H" entries): a template printing
``# Source: app/.git/config`` makes the parent read ``.git/config`` (where ``actions/checkout`` keeps the token)
with ``template_positions``/``_template_line`` and report the object as coming from ``.git/config``.

Observed (real helm): the object's ``file`` is ``.git/config`` and its line comes from that file: handoff opened
a ``.git`` file on the word of rendered output (only its key layout leaks, not the token value, so low
severity; it breaks the rule "anything resolving into a .git directory counts as outside").

Responsible: ``handoff/render/helm.py`` ``_template_file`` (checks containment in the chart, not
``pathsafe._allowed``, which excludes ``.git``).

What should hold: a ``# Source:`` path with a ``.git`` component (any case) is no template and is never opened.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from handoff.render import render_path
from tests.harness.tools import require_tool

pytestmark = pytest.mark.tools


def test_a_source_line_naming_the_root_git_config_is_not_read(tmp_path: Path) -> None:
    require_tool("helm")
    repo = tmp_path / "repo"
    (repo / "templates").mkdir(parents=True)
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    with (repo / ".git" / "config").open("a", encoding="utf-8") as f:
        f.write('[http "https://github.com/"]\n\textraheader = AUTHORIZATION: basic eC1hY2Nlc3M=\n'
                "kind: ConfigMap\n")
    (repo / "Chart.yaml").write_text("apiVersion: v2\nname: app\nversion: 0.1.0\n", encoding="utf-8")
    (repo / "templates" / "cm.yaml").write_text(
        "# Source: app/.git/config\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: web\n", encoding="utf-8")
    result = render_path(repo, repo=repo, kind="helm")
    [obj] = result.objects
    assert ".git" not in obj.file, (
        f"handoff opened {obj.file} (line {obj.line}) in its own process on the word of a template's "
        "'# Source:' line")

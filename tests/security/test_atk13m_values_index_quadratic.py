"""atk13m: a values file of many equal short strings makes handoff's image-source lookup quadratic: one
rendered ``image:`` keeps handoff's own process busy for half an hour.

Attack. After every successful helm render, ``HelmRenderer.render`` (``handoff/render/helm.py``) maps each
rendered ``image`` string (any key named ``image``, in any object, a ConfigMap's ``data`` included) to the
values leaf that set it: ``ValuesIndex.image_source`` (``handoff/render/helm_sources.py``) scans every leaf for
the tag, and for *each* leaf equal to the tag scans every leaf again for a sibling naming the repository
(``siblings = (s for s in self.leaves if …)``). A values file ``tags: ["1.0", "1.0", …]`` of 100,000 items
(1 MB, ~100,000 YAML nodes: under every cap, Helm's 5 MiB file limit included) and one rendered
``image: nginx:1.0`` that no leaf completes make 10^10 comparisons.

Observed: 2,000 items 0.6 s, 4,000 2.7 s, 8,000 11 s (quadratic): 100,000 items ~30 min for a single
image, per render; ``handoff validate`` / every reconciler pass over the revision stalls (all sources behind it
wait). Helm itself renders the chart in well under a second.

Responsible: ``handoff/render/helm_sources.py`` ``ValuesIndex.image_source`` (linear scans nested in a linear
scan; nothing bounds leaves x matches), called per image from ``image_sources`` in ``HelmRenderer.render``.

What should hold: a render under the caps finishes in time linear in its size (index leaves by value and by
parent once), and a render of repository content never takes minutes in handoff's own process.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.harness.tools import require_tool

pytestmark = pytest.mark.tools


def test_many_equal_values_make_the_image_lookup_quadratic(tmp_path: Path) -> None:
    require_tool("helm")
    repo = tmp_path / "repo"
    chart = repo / "chart"
    (chart / "templates").mkdir(parents=True)
    (repo / ".handoff.yaml").write_text("environments:\n  dev: {render: {type: helm, path: chart}}\n",
                                        encoding="utf-8")
    (chart / "Chart.yaml").write_text("apiVersion: v2\nname: web\nversion: 0.1.0\n", encoding="utf-8")
    (chart / "values.yaml").write_text("tags:\n" + '  - "1.0"\n' * 100_000, encoding="utf-8")
    (chart / "templates" / "cm.yaml").write_text(
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: web}\ndata:\n  image: nginx:1.0\n", encoding="utf-8")
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    try:
        subprocess.run([sys.executable, "-m", "handoff", "validate", "--config-repo", str(repo), "--env", "dev"],
                       cwd=repo, env=env, capture_output=True, text=True, timeout=120, check=False)
    except subprocess.TimeoutExpired:
        raise AssertionError("`handoff validate` did not finish in 120 s on a chart whose values.yaml lists "
                             "100,000 equal tags and which renders one image (ValuesIndex.image_source is "
                             "quadratic in the values' leaves)") from None

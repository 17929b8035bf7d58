"""Policy findings on a Helm-rendered image point at the values-file line that set it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from handoff.cli import main
from tests.harness.tools import require_tool
from tests.validate.helpers import write_tree

CHART = {
    "chart/Chart.yaml": "apiVersion: v2\nname: demo\nversion: 0.1.0\n",
    "chart/values.yaml": "image:\n  repository: registry.example/shop/web\n  tag: '1.4.2'\n",
    "chart/templates/deployment.yaml": (
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {{ .Release.Name }}-web\n"
        "spec:\n  selector:\n    matchLabels:\n      app: web\n  template:\n    metadata:\n"
        "      labels:\n        app: web\n    spec:\n      containers:\n        - name: web\n"
        "          image: \"{{ .Values.image.repository }}:{{ .Values.image.tag }}\"\n"),
    "envs/dev/values.yaml": "# dev follows the newest build\nimage:\n  tag: latest\n",
}


def _validate(repo: Path, *extra: str) -> tuple[int, dict[str, Any]]:
    out = repo / "report.json"
    code = main(["validate", "--config-repo", str(repo), "--output", "json", "--output-file", str(out),
                 *extra])
    report: dict[str, Any] = json.loads(out.read_text(encoding="utf-8"))
    return code, report


def test_latest_tag_finding_names_the_values_file_line(tmp_path: Path) -> None:
    require_tool("helm")
    write_tree(tmp_path, CHART)
    write_tree(tmp_path, {".handoff.yaml": (
        "environments:\n  dev:\n    render:\n      type: helm\n      path: chart\n"
        "      values: [envs/dev/values.yaml]\n      release: shop\n")})
    code, report = _validate(tmp_path, "--env", "dev")
    assert code == 1
    latest = [f for f in report["findings"] if f["rule"] == "disallow-latest-tag"]
    assert [(f["file"], f["line"], f["column"], f["path"]) for f in latest] == [
        ("envs/dev/values.yaml", 3, 3, "spec.template.spec.containers[0].image")]
    assert latest[0]["object"]["name"] == "shop-web"
    # the finding lives in another file, but it is still the Deployment that fails
    assert [(o["file"], o["status"]) for o in report["objects"]] == [
        ("chart/templates/deployment.yaml", "invalid")]


def test_pinned_tag_in_the_chart_passes(tmp_path: Path) -> None:
    require_tool("helm")
    write_tree(tmp_path, {k: v for k, v in CHART.items() if not k.startswith("envs/")})
    _, report = _validate(tmp_path, str(tmp_path / "chart"))
    assert [f["rule"] for f in report["findings"] if f["rule"] == "disallow-latest-tag"] == []
    assert [o["file"] for o in report["objects"]] == ["chart/templates/deployment.yaml"]

"""Both engines must reach the same verdict on every object of the corpus."""

import shutil
from pathlib import Path

import pytest

from handoff.render import RenderResult, render_path
from handoff.toolrun import find_tool
from handoff.validate import SchemaOptions, validate
from tests.harness.paths import CORPUS
from tests.harness.tools import require_tool
from tests.validate.helpers import write_tree
from tests.validate.test_kustomize_helm import CHART

OVERLAYS = [
    "kubernetes-sigs__kustomize__examples__multibases/dev",
    "kubernetes-sigs__kustomize__examples__multibases/production",
    "kubernetes-sigs__kustomize__examples__multibases/staging",
    "kubernetes-sigs__metrics-server__manifests/overlays/release",
    "kubernetes-sigs__metrics-server__manifests/overlays/test",
    "fluxcd__flux2-kustomize-helm-example__apps/production",
    "fluxcd__flux2-kustomize-helm-example__apps/staging",
]


def _verdicts(rendered: RenderResult, engine: str) -> list[tuple[str, str, str]]:
    report = validate(rendered, schema_options=SchemaOptions(), engine=engine)
    return [(o.file, str(o.object), o.status) for o in report.objects]


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    if not CORPUS.is_dir():
        pytest.fail(f"the shared corpus is missing at {CORPUS}")
    shutil.copytree(CORPUS / "manifests", tmp_path / "manifests")
    shutil.copytree(CORPUS / "kustomize", tmp_path / "kustomize")
    return tmp_path


def test_engines_agree_on_every_corpus_manifest(corpus: Path) -> None:
    require_tool("kubeconform")
    rendered = render_path(corpus / "manifests", repo=corpus)
    assert len(rendered.objects) >= 50
    builtin, kubeconform = _verdicts(rendered, "builtin"), _verdicts(rendered, "kubeconform")
    assert builtin == kubeconform
    statuses = {status for *_, status in builtin}
    assert statuses == {"valid", "invalid"}  # the corpus exercises both verdicts


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_engines_agree_on_rendered_kustomize_trees(corpus: Path, overlay: str) -> None:
    require_tool("kubeconform")
    if find_tool("kustomize") is None and find_tool("kubectl") is None:
        require_tool("kustomize")
    rendered = render_path(corpus / "kustomize" / overlay, repo=corpus)
    assert rendered.objects
    assert _verdicts(rendered, "builtin") == _verdicts(rendered, "kubeconform")


def test_engines_agree_on_a_rendered_helm_chart(tmp_path: Path) -> None:
    require_tool("kubeconform")
    require_tool("helm")

    write_tree(tmp_path, CHART)
    rendered = render_path(tmp_path / "chart", repo=tmp_path)
    verdicts = _verdicts(rendered, "builtin")
    assert verdicts == _verdicts(rendered, "kubeconform")
    assert {s for *_, s in verdicts} == {"valid", "invalid"}

"""kubeconform, helm and kustomize run offline on corpus inputs."""

import shutil
import subprocess
from pathlib import Path

import pytest

from tests.harness import paths
from tests.harness.kubeconform_schemas import kubeconform_schema_location
from tests.harness.tools import require_tool

pytestmark = pytest.mark.tools

CORPUS = paths.CORPUS
GUESTBOOK = CORPUS / "manifests" / "kubernetes__examples__guestbook__all-in-one__guestbook-all-in-one.yaml"
MULTIBASES = CORPUS / "kustomize" / "kubernetes-sigs__kustomize__examples__multibases"


def _corpus_copy(source: Path, tmp_path: Path) -> Path:
    if not source.exists():
        pytest.skip(f"corpus input {source} is not on this machine")
    target = tmp_path / source.name
    if source.is_dir():
        shutil.copytree(source, target)
    else:
        shutil.copy(source, target)
    return target


def _run(*argv: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(a) for a in argv], capture_output=True, text=True, check=False)


def test_kubeconform_strict_accepts_a_corpus_manifest_offline(tmp_path: Path) -> None:
    manifest = _corpus_copy(GUESTBOOK, tmp_path)
    location = kubeconform_schema_location("1.35")

    done = _run(require_tool("kubeconform"), "-strict", "-summary", "-schema-location", location, manifest)

    assert done.returncode == 0, done.stdout + done.stderr
    assert "Valid: 6, Invalid: 0, Errors: 0, Skipped: 0" in done.stdout


def test_kubeconform_strict_rejects_an_unknown_field(tmp_path: Path) -> None:
    manifest = tmp_path / "bad.yaml"
    manifest.write_text(
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\ndata:\n  a: b\nspec:\n  surprise: true\n"
    )

    done = _run(
        require_tool("kubeconform"),
        "-strict",
        "-schema-location",
        kubeconform_schema_location("1.35"),
        manifest,
    )

    assert done.returncode == 1
    assert "additional properties 'spec' not allowed" in done.stdout


def test_helm_template_renders_a_chart(tmp_path: Path) -> None:
    chart = tmp_path / "web"
    (chart / "templates").mkdir(parents=True)
    (chart / "Chart.yaml").write_text("apiVersion: v2\nname: web\nversion: 0.1.0\n")
    (chart / "values.yaml").write_text("image:\n  repository: registry.example/web\n  tag: '1.10'\n")
    (chart / "templates" / "cm.yaml").write_text(
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}\n"
        'data:\n  image: "{{ .Values.image.repository }}:{{ .Values.image.tag }}"\n'
    )

    done = _run(require_tool("helm"), "template", "prod", chart, "--namespace", "web")

    assert done.returncode == 0, done.stderr
    assert "name: prod" in done.stdout
    assert 'image: "registry.example/web:1.10"' in done.stdout


def test_kustomize_builds_a_corpus_overlay(tmp_path: Path) -> None:
    tree = _corpus_copy(MULTIBASES, tmp_path)

    done = _run(require_tool("kustomize"), "build", tree)

    assert done.returncode == 0, done.stderr
    assert done.stdout.count("kind: Pod") == 3
    assert "name: cluster-a-dev-myapp-pod" in done.stdout


def test_yq_reads_a_value(tmp_path: Path) -> None:
    values = tmp_path / "values.yaml"
    values.write_text("image:\n  tag: v1.2.3\n")

    done = _run(require_tool("yq"), ".image.tag", values)

    assert done.stdout.strip() == "v1.2.3"

"""Common real-world layouts that bump reaches, each written fresh in the shape public repos use:
Flux HelmReleases beside other documents, literal dotted keys, Bitnami-style `tag@digest` tags,
image volumes, ephemeral containers, Argo Rollouts, and tag-only Helm values."""

from __future__ import annotations

from pathlib import Path

import pytest

from handoff.edit.bump import bump, current_image
from handoff.errors import EditError
from tests.bump.helpers import make_repo, snapshot

DIGEST = "sha256:" + "c" * 64


def config(target: str, image: str = "ghcr.io/acme/web") -> str:
    return f"apps:\n  web:\n    image: {image}\n    targets:\n      - {target}\n"


HELMRELEASE_FILE = """apiVersion: source.toolkit.fluxcd.io/v1
kind: HelmRepository
metadata: {name: acme}
spec: {url: https://charts.example.com}
---
apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata:
  name: web
spec:
  chart: {spec: {chart: web, sourceRef: {kind: HelmRepository, name: acme}}}
  values:
    image:
      repository: ghcr.io/acme/web
      tag: "1.0"
"""


def test_helmrelease_values_in_the_second_document(tmp_path: Path) -> None:
    repo = make_repo(tmp_path, {
        ".handoff.yaml": config("{type: helm, path: web.yaml, repository: spec.values.image.repository, "
                                "tag: spec.values.image.tag}"),
        "web.yaml": HELMRELEASE_FILE})
    bump(repo, "ghcr.io/acme/web:1.1")
    assert (repo / "web.yaml").read_text() == HELMRELEASE_FILE.replace('tag: "1.0"', 'tag: "1.1"')


def test_document_selector_by_kind_and_name(tmp_path: Path) -> None:
    two = HELMRELEASE_FILE + "---\n" + HELMRELEASE_FILE.split("---\n")[1].replace("name: web\n", "name: api\n")
    repo = make_repo(tmp_path, {
        ".handoff.yaml": config("{type: helm, path: web.yaml, document: {kind: HelmRelease, name: api}, "
                                "tag: spec.values.image.tag}"),
        "web.yaml": two})
    bump(repo, "ghcr.io/acme/web:1.1")
    text = (repo / "web.yaml").read_text()
    assert text.count('tag: "1.0"') == 1 and text.endswith('tag: "1.1"\n')


def test_several_documents_holding_the_key_are_refused_naming_them(tmp_path: Path) -> None:
    two = HELMRELEASE_FILE + "---\n" + HELMRELEASE_FILE.split("---\n")[1].replace("name: web\n", "name: api\n")
    repo = make_repo(tmp_path, {".handoff.yaml": config("{type: helm, path: web.yaml, tag: spec.values.image.tag}"),
                                "web.yaml": two})
    before = snapshot(repo)
    with pytest.raises(EditError, match="HelmRelease/api"):
        bump(repo, "ghcr.io/acme/web:1.1")
    assert snapshot(repo) == before


def test_literal_dotted_key(tmp_path: Path) -> None:
    values = 'image.repository: ghcr.io/acme/web\nimage.tag: v1\nimage:\n  tag: untouched\n'
    repo = make_repo(tmp_path, {".handoff.yaml": config(r"{type: helm, path: v.yaml, tag: 'image\.tag'}"),
                                "v.yaml": values})
    bump(repo, "ghcr.io/acme/web:v2")
    assert (repo / "v.yaml").read_text() == values.replace("image.tag: v1", "image.tag: v2")


def test_tag_key_holding_tag_and_digest(tmp_path: Path) -> None:
    values = f"image:\n  registry: docker.io\n  repository: bitnami/redis\n  tag: 7.0.0-debian-11-r0@{'sha256:' + 'a' * 64}\n"
    repo = make_repo(tmp_path, {
        ".handoff.yaml": config("{type: helm, path: v.yaml, tag: image.tag, format: tag@digest}",
                                image="docker.io/bitnami/redis"),
        "v.yaml": values})
    bump(repo, f"docker.io/bitnami/redis:7.2.4-debian-12-r9@{DIGEST}")
    assert (repo / "v.yaml").read_text() == values.replace(
        f"7.0.0-debian-11-r0@{'sha256:' + 'a' * 64}", f"7.2.4-debian-12-r9@{DIGEST}")
    assert str(current_image(repo, app="web", env=None)) == f"docker.io/bitnami/redis:7.2.4-debian-12-r9@{DIGEST}"


POD = """apiVersion: v1
kind: Pod
metadata: {name: web}
spec:
  containers:
  - name: web
    image: ghcr.io/acme/web:1.0
  ephemeralContainers:
  - name: debug
    image: ghcr.io/acme/web:1.0
  volumes:
  - name: models
    image:
      reference: ghcr.io/acme/web:1.0
      pullPolicy: IfNotPresent
"""


def test_image_volume_reference(tmp_path: Path) -> None:
    repo = make_repo(tmp_path, {".handoff.yaml": config("{type: manifest, path: pod.yaml, volume: models}"),
                                "pod.yaml": POD})
    bump(repo, "ghcr.io/acme/web:1.1")
    assert (repo / "pod.yaml").read_text() == POD.replace(
        "      reference: ghcr.io/acme/web:1.0", "      reference: ghcr.io/acme/web:1.1")


def test_ephemeral_container(tmp_path: Path) -> None:
    repo = make_repo(tmp_path, {".handoff.yaml": config("{type: manifest, path: pod.yaml, container: debug}"),
                                "pod.yaml": POD})
    bump(repo, "ghcr.io/acme/web:1.1")
    assert (repo / "pod.yaml").read_text() == POD.replace(
        "  - name: debug\n    image: ghcr.io/acme/web:1.0", "  - name: debug\n    image: ghcr.io/acme/web:1.1")


ROLLOUT = """apiVersion: argoproj.io/v1alpha1
kind: Rollout
metadata: {name: web}
spec:
  strategy: {canary: {steps: [{setWeight: 20}, {pause: {}}]}}
  template:
    spec:
      containers:
      - name: web
        image: ghcr.io/acme/web:1.0
"""


def test_argo_rollout(tmp_path: Path) -> None:
    repo = make_repo(tmp_path, {".handoff.yaml": config("{type: manifest, path: r.yaml, kind: Rollout, container: web}"),
                                "r.yaml": ROLLOUT})
    bump(repo, "ghcr.io/acme/web:1.1")
    assert (repo / "r.yaml").read_text() == ROLLOUT.replace("web:1.0", "web:1.1")


def test_tag_only_helm_target_reads_the_repository_from_the_app(tmp_path: Path) -> None:
    repo = make_repo(tmp_path, {".handoff.yaml": config("{type: helm, path: v.yaml, tag: image.tag}"),
                                "v.yaml": 'image:\n  tag: "1.0.0"\n'})
    assert str(current_image(repo, app="web", env=None)) == "ghcr.io/acme/web:1.0.0"
    bump(repo, "ghcr.io/acme/web:1.1.0")
    assert str(current_image(repo, app="web", env=None)) == "ghcr.io/acme/web:1.1.0"


ARGO_APPLICATION = """apiVersion: argoproj.io/v1alpha1
kind: Application
metadata:
  name: web-dev
  namespace: argocd
spec:
  project: default
  source:
    repoURL: https://git.example.com/acme/charts.git
    path: charts/web
    targetRevision: main
    helm:
      parameters:
      - name: image.repository
        value: ghcr.io/acme/web
      - name: image.tag
        value: "1.0"
  destination: {server: https://kubernetes.default.svc, namespace: web}
"""


def test_argo_cd_application_helm_parameter_selected_by_a_dotted_name(tmp_path: Path) -> None:
    repo = make_repo(tmp_path, {
        ".handoff.yaml": config("{type: helm, path: app.yaml, "
                                "tag: 'spec.source.helm.parameters[name=image.tag].value'}"),
        "app.yaml": ARGO_APPLICATION})
    bump(repo, "ghcr.io/acme/web:1.1")
    assert (repo / "app.yaml").read_text() == ARGO_APPLICATION.replace('value: "1.0"', 'value: "1.1"')

"""Render-verified bump with real kustomize and helm: an edit the render does not carry is refused,
naming what wins, and nothing is written. Layouts as in public overlay repos (a base with the image and
an overlay whose `images:` pins its own tag; a chart with per-environment values files)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from handoff.cli import main
from handoff.errors import EditError
from handoff.workflows.verify import verified_bump
from tests.bump.helpers import make_repo, snapshot
from tests.harness.tools import require_tool

DEPLOYMENT = """apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  labels: {app: web}
spec:
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
      - name: web
        image: ghcr.io/acme/web:1.0
"""


@pytest.fixture(autouse=True)
def renderers() -> None:
    require_tool("kustomize")
    require_tool("helm")


def kustomize_repo(tmp_path: Path, overlay_images: str) -> Path:
    return make_repo(tmp_path, {
        ".handoff.yaml": """environments:
  prod: {render: {type: kustomize, path: overlays/prod}}
apps:
  web:
    image: ghcr.io/acme/web
    targets:
      - {type: kustomize, path: base/kustomization.yaml, name: ghcr.io/acme/web}
""",
        "base/kustomization.yaml": "resources: [deployment.yaml]\nimages:\n- name: ghcr.io/acme/web\n  newTag: \"1.0\"\n",
        "base/deployment.yaml": DEPLOYMENT,
        "overlays/prod/kustomization.yaml": f"resources: [../../base]\n{overlay_images}",
    })


def test_overlay_overriding_the_base_tag_is_refused_naming_the_overlay(tmp_path: Path) -> None:
    repo = kustomize_repo(tmp_path, 'images:\n- name: ghcr.io/acme/web\n  newTag: "0.9"\n')
    before = snapshot(repo)
    with pytest.raises(EditError) as err:
        verified_bump(repo, "ghcr.io/acme/web:1.1")
    message = str(err.value)
    assert "still renders ghcr.io/acme/web:0.9" in message
    assert "overlays/prod/kustomization.yaml:4" in message
    assert snapshot(repo) == before


def test_overlay_without_override_is_verified(tmp_path: Path) -> None:
    repo = kustomize_repo(tmp_path, "")
    result, verification = verified_bump(repo, "ghcr.io/acme/web:1.1")
    assert result.written and verification.environments == ("prod",)


def test_duplicated_images_name_is_verified_after_editing_every_entry(tmp_path: Path) -> None:
    repo = kustomize_repo(tmp_path, "")
    (repo / "base/kustomization.yaml").write_text(
        "resources: [deployment.yaml]\nimages:\n- name: ghcr.io/acme/web\n  newTag: \"1.0\"\n"
        "- name: ghcr.io/acme/web\n  newTag: \"1.0-rc\"\n")
    result, verification = verified_bump(repo, "ghcr.io/acme/web:1.1")
    assert result.written and verification.environments == ("prod",)


CHART = {
    "charts/web/Chart.yaml": "apiVersion: v2\nname: web\nversion: 0.1.0\n",
    "charts/web/values.yaml": "image:\n  repository: ghcr.io/acme/web\n  tag: \"1.0\"\n",
    "charts/web/templates/deployment.yaml": DEPLOYMENT.replace(
        "image: ghcr.io/acme/web:1.0", 'image: "{{ .Values.image.repository }}:{{ .Values.image.tag }}"'),
    "envs/prod/values.yaml": "image:\n  tag: \"1.0\"\n",
    "envs/staging/values.yaml": "image:\n  tag: \"1.0\"\n",
}


def chart_repo(tmp_path: Path, values: str) -> Path:
    return make_repo(tmp_path, {**CHART, ".handoff.yaml": f"""environments:
  prod:
    render: {{type: helm, path: charts/web, values: [{values}], release: web}}
apps:
  web:
    image: ghcr.io/acme/web
    targets:
      - {{type: helm, path: envs/staging/values.yaml, tag: image.tag, env: prod}}
"""})


def test_values_file_the_environment_does_not_use_is_refused(tmp_path: Path) -> None:
    repo = chart_repo(tmp_path, "envs/prod/values.yaml")
    before = snapshot(repo)
    with pytest.raises(EditError, match=re.escape("still renders ghcr.io/acme/web:1.0")):
        verified_bump(repo, "ghcr.io/acme/web:1.1")
    assert snapshot(repo) == before


def test_values_file_the_environment_uses_is_verified(tmp_path: Path) -> None:
    repo = chart_repo(tmp_path, "envs/staging/values.yaml")
    _, verification = verified_bump(repo, "ghcr.io/acme/web:1.1")
    assert verification.environments == ("prod",)


def test_cli_refuses_and_can_skip_with_a_reason(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    repo = chart_repo(tmp_path, "envs/prod/values.yaml")
    assert main(["bump", "--image", "ghcr.io/acme/web:1.1", "--config-repo", str(repo)]) == 1
    assert "still renders" in capsys.readouterr().err
    assert main(["bump", "--image", "ghcr.io/acme/web:1.1", "--config-repo", str(repo),
                 "--no-verify-render", "chart defaults are overridden at deploy time"]) == 0
    assert "render not verified (--no-verify-render: chart defaults are overridden" in capsys.readouterr().out


# fluxcd/flux2-kustomize-helm-example layout: the environment renders (kustomize) to HelmReleases, not
# to Deployments; the chart is expanded by the controller, so the proof is that the rendered HelmRelease
# carries exactly the written value.
HELMRELEASE = """apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata:
  name: web
  namespace: web
spec:
  interval: 10m
  chart: {spec: {chart: web, sourceRef: {kind: HelmRepository, name: acme}}}
  values:
    image:
      tag: "1.0"
"""
PATCH = """apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata:
  name: web
  namespace: web
spec:
  values:
    image:
      tag: "1.0"
"""


def flux_repo(tmp_path: Path, target_path: str) -> Path:
    return make_repo(tmp_path, {
        ".handoff.yaml": f"""environments:
  staging: {{render: {{type: kustomize, path: apps/staging}}}}
apps:
  web:
    image: ghcr.io/acme/web
    targets:
      - {{type: helm, path: {target_path}, tag: spec.values.image.tag}}
""",
        "apps/base/web/kustomization.yaml": "resources: [release.yaml]\n",
        "apps/base/web/release.yaml": HELMRELEASE,
        "apps/staging/kustomization.yaml": ("resources: [../base/web]\npatches:\n- path: web-values.yaml\n"
                                            "  target: {kind: HelmRelease}\n"),
        "apps/staging/web-values.yaml": PATCH,
        "apps/production/web-values.yaml": PATCH,
    })


def test_a_helmrelease_render_carrying_the_written_tag_is_verified(tmp_path: Path) -> None:
    repo = flux_repo(tmp_path, "apps/staging/web-values.yaml")
    result, verification = verified_bump(repo, "ghcr.io/acme/web:1.1")
    assert result.written and verification.environments == ("staging",)
    assert (repo / "apps/staging/web-values.yaml").read_text() == PATCH.replace('"1.0"', '"1.1"')


@pytest.mark.parametrize("target_path", ["apps/production/web-values.yaml", "apps/base/web/release.yaml"])
def test_a_helmrelease_value_the_render_does_not_carry_is_refused(tmp_path: Path, target_path: str) -> None:
    # another environment's patch (not in staging's render), or the base the staging patch overrides
    repo = flux_repo(tmp_path, target_path)
    before = snapshot(repo)
    with pytest.raises(EditError) as err:
        verified_bump(repo, "ghcr.io/acme/web:1.1")
    assert str(err.value) == (
        f"{target_path}:{11 if 'release' in target_path else 9}: at spec.values.image.tag: environment staging "
        "renders no image of ghcr.io/acme/web and none of the edited values: this file is not part of its "
        "render, or another file overrides the value (check the environment's render path, patches and values)")
    assert snapshot(repo) == before


def test_values_file_not_in_the_render_names_the_rendered_place(tmp_path: Path) -> None:
    repo = chart_repo(tmp_path, "envs/prod/values.yaml")
    with pytest.raises(EditError) as err:
        verified_bump(repo, "ghcr.io/acme/web:1.1")
    assert re.match(r"^[\w/.-]+:\d+: ", str(err.value)), str(err.value)
    assert "\n" not in str(err.value)


def shared_base_repo(tmp_path: Path, target_env: str, prod: str = "") -> Path:
    return make_repo(tmp_path, {
        ".handoff.yaml": f"""environments:
  dev: {{render: {{type: kustomize, path: overlays/dev}}}}
  prod: {{render: {{type: kustomize, path: overlays/prod}}{prod}}}
apps:
  web:
    image: ghcr.io/acme/web
    targets:
      - {{type: kustomize, path: base/kustomization.yaml, name: ghcr.io/acme/web{target_env}}}
""",
        "base/kustomization.yaml": "resources: [deployment.yaml]\nimages:\n- name: ghcr.io/acme/web\n  newTag: \"1.0\"\n",
        "base/deployment.yaml": DEPLOYMENT,
        "overlays/dev/kustomization.yaml": "resources: [../../base]\n",
        "overlays/prod/kustomization.yaml": "resources: [../../base]\n",
    })


PROD_REFUSAL = ("base/kustomization.yaml:4: at images[name=ghcr.io/acme/web].newTag: the bump also changes "
                "environment prod's render (Deployment/web spec.template.spec.containers[0].image: "
                "'ghcr.io/acme/web:1.0' -> 'ghcr.io/acme/web:1.1'), which it does not target (prod is "
                "promote-only or outside the targets' env): give the shared file's target an {env} path, or "
                "bump with --env")


def test_a_shared_base_edited_for_dev_only_must_not_change_prod(tmp_path: Path) -> None:
    # the target is declared for dev, but the file it edits is also prod's base
    repo = shared_base_repo(tmp_path, ", env: dev")
    before = snapshot(repo)
    with pytest.raises(EditError) as err:
        verified_bump(repo, "ghcr.io/acme/web:1.1", env="dev")
    assert re.sub(r"Deployment/\S*web", "Deployment/web", str(err.value)) == PROD_REFUSAL
    assert snapshot(repo) == before


def test_a_shared_base_bumped_without_env_must_not_change_a_promote_only_env(tmp_path: Path) -> None:
    repo = shared_base_repo(tmp_path, "", prod=", promote_only: true")
    before = snapshot(repo)
    with pytest.raises(EditError) as err:
        verified_bump(repo, "ghcr.io/acme/web:1.1")
    assert re.sub(r"Deployment/\S*web", "Deployment/web", str(err.value)) == PROD_REFUSAL
    assert snapshot(repo) == before


def test_a_shared_base_bumped_for_every_environment_is_verified(tmp_path: Path) -> None:
    repo = shared_base_repo(tmp_path, "")
    result, verification = verified_bump(repo, "ghcr.io/acme/web:1.1")
    assert result.written and verification.environments == ("dev", "prod")


def test_the_overriding_entry_named_is_the_one_of_this_image(tmp_path: Path) -> None:
    # another image's kustomization (sorted first) pins the same tag text: it is not what wins
    repo = kustomize_repo(tmp_path, 'images:\n- name: ghcr.io/acme/web\n  newTag: "0.9"\n')
    (repo / "aaa").mkdir()
    (repo / "aaa/kustomization.yaml").write_text('images:\n- name: ghcr.io/acme/other\n  newTag: "0.9"\n')
    with pytest.raises(EditError) as err:
        verified_bump(repo, "ghcr.io/acme/web:1.1")
    assert "(set by overlays/prod/kustomization.yaml:4)" in str(err.value)

"""Writes the golden inputs (before/ trees + case.yaml). Expected outputs (after/) are produced once by
`python -m tests.bump.make_golden_inputs --expect` and then reviewed by hand; they are committed."""
# ruff: noqa
from __future__ import annotations

import shutil
import sys
from pathlib import Path

HERE = Path(__file__).parent / "golden"
D1 = "sha256:" + "1" * 64
D2 = "sha256:" + "2" * 64

HELM_CFG = """apps:
  web:
    image: ghcr.io/acme/web
    targets:
      - type: helm
        path: values.yaml
{keys}
"""


def helm_cfg(**keys: str) -> str:
    return HELM_CFG.format(keys="\n".join(f"        {k}: {v}" for k, v in keys.items()))


CASES: dict[str, dict[str, object]] = {
    "helm-basic": dict(image="ghcr.io/acme/web:1.5.0", files={
        ".handoff.yaml": helm_cfg(repository="image.repository", tag="image.tag"),
        "values.yaml": "# web chart values\nreplicaCount: 1\nimage:\n  repository: ghcr.io/acme/web\n  tag: 1.4.1\n  pullPolicy: IfNotPresent\n"}),
    "helm-comment-on-line": dict(image="ghcr.io/acme/web:1.5.0", files={
        ".handoff.yaml": helm_cfg(tag="image.tag"),
        "values.yaml": "image:\n  tag: \"1.4.1\"    # the tag CI bumps; keep this comment\n  # trailing comment\n"}),
    "helm-yaml11-quoting": dict(image="ghcr.io/acme/web:1.10", files={
        ".handoff.yaml": helm_cfg(tag="image.tag"),
        "values.yaml": "image:\n  tag: v1.9\n  other: keep\n"}),
    "helm-empty-tags": dict(image="ghcr.io/acme/web:2.0.0", files={
        ".handoff.yaml": "apps:\n  web:\n    image: ghcr.io/acme/web\n    targets:\n"
        + "".join(f"      - {{type: helm, path: values.yaml, tag: {k}.tag}}\n" for k in ("dq", "sq", "empty", "tilde", "null", "flow")),
        "values.yaml": "dq:\n  tag: \"\"\nsq:\n  tag: ''\nempty:\n  tag:\n  x: 1\ntilde:\n  tag: ~\nnull:\n  tag: null\nflow: {tag: , x: 1}\n"}),
    "helm-digest-added": dict(image=f"ghcr.io/acme/web:1.5.0@{D1}", files={
        ".handoff.yaml": helm_cfg(repository="image.repository", tag="image.tag", digest="image.digest"),
        "values.yaml": "image:\n  repository: ghcr.io/acme/web\n  tag: \"1.4.1\"\n  pullPolicy: IfNotPresent\nservice:\n  port: 80\n"}),
    "helm-digest-cleared": dict(image="ghcr.io/acme/web:1.5.0", files={
        ".handoff.yaml": helm_cfg(tag="image.tag", digest="image.digest"),
        "values.yaml": f"image:\n  tag: 1.4.1\n  digest: \"{D1}\"\n"}),
    "helm-registry-split": dict(image="ghcr.io/acme/web:1.5.0", files={
        ".handoff.yaml": helm_cfg(registry="image.registry", repository="image.repository", tag="image.tag"),
        "values.yaml": "image:\n  registry: docker.io\n  repository: acme/web\n  tag: 1.4.1\n"}),
    "helm-image-string": dict(image="ghcr.io/acme/web:1.5.0", files={
        ".handoff.yaml": helm_cfg(image="web.image"),
        "values.yaml": "web:\n  image: 'ghcr.io/acme/web:1.4.1'\n  imagePullPolicy: Always\n"}),
    "helm-list-selector": dict(image="ghcr.io/acme/proxy:0.9.1", files={
        ".handoff.yaml": "apps:\n  proxy:\n    image: ghcr.io/acme/proxy\n    targets:\n      - type: helm\n        path: values.yaml\n        tag: sidecars[name=proxy].image.tag\n      - type: helm\n        path: values.yaml\n        tag: extra[1].tag\n",
        "values.yaml": "sidecars:\n    -   name: logger\n        image:\n            repository: fluent/fluent-bit\n            tag: 3.0.4\n    -   name: proxy\n        image:\n            repository: ghcr.io/acme/proxy\n            tag: 0.9.0\nextra:\n- {tag: a}\n- {tag: 0.9.0}\n"}),
    "helm-anchor": dict(image="ghcr.io/acme/web:1.5.0", files={
        ".handoff.yaml": helm_cfg(tag="api.image.tag"),
        "values.yaml": "defaults: &img\n  repository: ghcr.io/acme/web\n  tag: 1.4.1 # shared\napi:\n  image: *img\nworker:\n  image: *img\nmerged:\n  <<: *img\n  pullPolicy: Always\n"}),
    "helm-anchored-scalar": dict(image="ghcr.io/acme/web:1.5.0", files={
        ".handoff.yaml": helm_cfg(tag="image.tag"),
        "values.yaml": "image:\n  tag: &webTag !!str 1.4.1 # defined once\nworker:\n  tag: *webTag\n"}),
    "helm-merge-key": dict(image="ghcr.io/acme/web:1.5.0", files={
        ".handoff.yaml": helm_cfg(tag="api.tag"),
        "values.yaml": "base: &base\n  tag: 1.4.1\n  pullPolicy: IfNotPresent\napi:\n  <<: *base\n  port: 80\n"}),
    "helm-flow-map": dict(image="ghcr.io/acme/web:1.5.0", files={
        ".handoff.yaml": helm_cfg(repository="image.repository", tag="image.tag"),
        "values.yaml": "image: {repository: ghcr.io/acme/web, tag: \"1.4.1\", pullPolicy: Always}\nlist: [a, b]\n"}),
    "helm-block-scalars-nearby": dict(image="ghcr.io/acme/web:1.5.0", files={
        ".handoff.yaml": helm_cfg(tag="image.tag"),
        "values.yaml": "notes: |\n  tag: 1.4.1 is not the tag\n  keep   spacing\nimage:\n  tag: 1.4.1\nfolded: >-\n  some folded\n  text\n"}),
    "helm-crlf": dict(image="ghcr.io/acme/web:1.5.0", files={
        ".handoff.yaml": helm_cfg(tag="image.tag", digest="image.digest"),
        "values.yaml": b"# crlf file\r\nimage:\r\n  tag: 1.4.1\r\n  pullPolicy: Always\r\n"}, image_digest=True),
    "helm-bom-no-final-newline": dict(image="ghcr.io/acme/web:1.5.0", files={
        ".handoff.yaml": helm_cfg(tag="image.tag"),
        "values.yaml": "\ufeffimage:\n  tag: 1.4.1  \n  pullPolicy: Always".encode()}),
    "kustomize-existing-entry": dict(image=f"ghcr.io/acme/web:1.5.0@{D2}", files={
        ".handoff.yaml": "apps:\n  web:\n    image: ghcr.io/acme/web\n    targets:\n      - {type: kustomize, path: kustomization.yaml, name: web}\n",
        "kustomization.yaml": "resources:\n  - deployment.yaml\nimages:\n  - name: other\n    newTag: v1\n  - name: web # the app\n    newName: ghcr.io/acme/web\n    newTag: \"1.4.1\"\n"}),
    "kustomize-add-entry-mixed-styles": dict(image="ghcr.io/acme/web:1.5.0", files={
        ".handoff.yaml": "apps:\n  web:\n    image: ghcr.io/acme/web\n    targets:\n      - {type: kustomize, path: kustomization.yaml, name: ghcr.io/acme/web}\n",
        "kustomization.yaml": "images:\n- name: a\n  newTag: v1\n- {name: b, newTag: v2}\nconfigMapGenerator: []\n"}),
    "kustomize-add-entry-block": dict(image="ghcr.io/acme/web:1.5.0", files={
        ".handoff.yaml": "apps:\n  web:\n    image: ghcr.io/acme/web\n    targets:\n      - {type: kustomize, path: kustomization.yaml, name: web}\n",
        "kustomization.yaml": "images:\n    - name: a\n      newTag: v1\n# comment after the list\nresources:\n    - a.yaml\n"}),
    "kustomize-add-images-key": dict(image="ghcr.io/acme/web:1.5.0", files={
        ".handoff.yaml": "apps:\n  web:\n    image: ghcr.io/acme/web\n    targets:\n      - {type: kustomize, path: kustomization.yaml, name: ghcr.io/acme/web}\n",
        "kustomization.yaml": "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n  - deployment.yaml\n"}),
    "kustomize-flow-list": dict(image="ghcr.io/acme/web:1.5.0", files={
        ".handoff.yaml": "apps:\n  web:\n    image: ghcr.io/acme/web\n    targets:\n      - {type: kustomize, path: kustomization.yaml, name: ghcr.io/acme/web}\n",
        "kustomization.yaml": "images: [{name: a, newTag: v1}]\n"}),
    "manifest-multidoc": dict(image="ghcr.io/acme/web:1.5.0", files={
        ".handoff.yaml": "apps:\n  web:\n    image: ghcr.io/acme/web\n    targets:\n      - {type: manifest, path: app.yaml, kind: Deployment, name: web, container: web}\n      - {type: manifest, path: app.yaml, kind: Deployment, name: web, container: migrate}\n      - {type: manifest, path: app.yaml, kind: CronJob, name: web-cron, container: job}\n",
        "app.yaml": "# comment before the first document\n---\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  template:\n    spec:\n      initContainers:\n      - name: migrate\n        image: ghcr.io/acme/web:1.4.1\n      containers:\n      - name: web\n        image: \"ghcr.io/acme/web:1.4.1\"\n      - name: sidecar\n        image: ghcr.io/acme/web:1.4.1\n...\n---\napiVersion: batch/v1\nkind: CronJob\nmetadata: {name: web-cron}\nspec:\n  jobTemplate:\n    spec:\n      template:\n        spec:\n          containers:\n          - {name: job, image: ghcr.io/acme/web:1.4.1}\n...\n"}),
    "marker-no-config": dict(image="ghcr.io/acme/web:1.5.0", env="prod", files={
        "deploy/values.yaml": "image:\n  repository: ghcr.io/acme/web # handoff:name web\n  tag: 1.4.1 # handoff:tag web\n  devTag: 1.4.1 # handoff:tag web env=dev\n  prodTag: 1.4.1 # handoff:tag web env=prod\nother: ghcr.io/acme/other:1 # handoff:image other\n",
        "deploy/pod.yml": "spec:\n  containers:\n  - name: web\n    image: ghcr.io/acme/web:1.4.1 # handoff:image web\n",
        "notes.txt": "not yaml # handoff:image web\n",
        ".hidden/values.yaml": "tag: 1.4.1 # handoff:tag web\n"}),
}


def write_inputs() -> None:
    for name, case in CASES.items():
        root = HERE / name
        shutil.rmtree(root / "before", ignore_errors=True)
        for rel, content in case["files"].items():  # type: ignore[union-attr]
            path = root / "before" / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(content if isinstance(content, bytes) else content.encode())
        args = {"image": case["image"] + (f"@{D1}" if case.get("image_digest") else "")}
        if "env" in case:
            args["env"] = case["env"]
        (root / "case.txt").write_text("".join(f"{k}={v}\n" for k, v in args.items()))


def write_expected() -> None:
    from handoff.edit.bump import bump
    from tests.bump.test_golden import read_case

    for name in CASES:
        root = HERE / name
        shutil.rmtree(root / "after", ignore_errors=True)
        shutil.copytree(root / "before", root / "after")
        args = read_case(root)
        bump(root / "after", args["image"], env=args.get("env"))


if __name__ == "__main__":
    write_inputs()
    if "--expect" in sys.argv:
        write_expected()

"""The .handoff.yaml model others build on: parsed into frozen dataclasses, errors with file:line: at key."""

from __future__ import annotations

import datetime
from pathlib import Path

import pytest

from handoff.config import load_config, parse_config_text
from handoff.errors import ConfigError

FULL = """\
kubernetes_version: "1.30"
environments:
  dev:
    render: {type: kustomize, path: envs/dev}
  prod:
    branch: release/prod
    render: {type: helm, path: charts/web, values: [envs/prod/values.yaml], release: web, namespace: web}
    params: {replicas: 3}
apps:
  web:
    image: ghcr.io/acme/web
    targets:
      - {type: helm, path: "envs/{env}/values.yaml", tag: image.tag, digest: image.digest, env: [dev, prod]}
      - {type: kustomize, path: envs/dev/kustomization.yaml, name: web, env: dev}
      - {type: manifest, path: job.yaml, kind: CronJob, name: cleanup, container: job}
      - {type: marker, path: any.yaml}
policies: {dirs: [policies], builtin: false, disable: [require-probes], params: {registries: [ghcr.io]}}
waivers:
  - policy: disallow-latest-tag
    match: {kind: Deployment, name: legacy}
    reason: vendor image
    expires: 2027-01-31
propose: {labels: [deploy], reviewers: [alice], base: main}
"""


def test_full_config(tmp_path: Path) -> None:
    (tmp_path / ".handoff.yaml").write_text(FULL)
    config = load_config(tmp_path)
    assert config is not None
    assert config.kubernetes_version == "1.30"
    prod = config.environments["prod"]
    assert prod.branch == "release/prod" and prod.params["replicas"] == 3
    assert prod.render is not None and prod.render.values == ("envs/prod/values.yaml",)
    web = config.apps["web"]
    assert web.image == "ghcr.io/acme/web"
    assert [t.type for t in web.targets] == ["helm", "kustomize", "manifest", "marker"]
    assert web.targets[0].envs == ("dev", "prod") and web.targets[1].envs == ("dev",)
    assert web.targets[2].line == 15 and web.targets[2].key == "apps.web.targets[2]"
    assert config.policies.disable == ("require-probes",) and not config.policies.builtin
    assert config.waivers[0].expires == datetime.date(2027, 1, 31)
    assert config.propose.branch == "handoff/{env}/{app}" and config.propose.labels == ("deploy",)


def test_no_config_file_is_none(tmp_path: Path) -> None:
    assert load_config(tmp_path) is None


@pytest.mark.parametrize(("text", "expected"), [
    ("apps:\n  web:\n    targets:\n      - {type: helm, path: v.yaml}\n",
     ".handoff.yaml:4: at apps.web.targets[0]:"),
    ("apps:\n  web:\n    targets:\n      - {type: kustomize, path: k.yaml, name: web, tag: x}\n",
     ".handoff.yaml:4: at apps.web.targets[0]: Additional properties are not allowed ('tag'"),
    ("apps:\n  web:\n    targets:\n      - {type: helmm, path: v.yaml}\n",
     ".handoff.yaml:4: at apps.web.targets[0].type: 'helmm' is not one of"),
    ("environments:\n  dev: {}\napps:\n  web:\n    targets:\n      - {type: marker, path: a.yaml, env: prd}\n",
     ".handoff.yaml:6: at apps.web.targets[0].env: unknown environment 'prd' (declared: dev)"),
    ("apps:\n  web:\n    image: ghcr.io/Acme/web\n",
     ".handoff.yaml:3: at apps.web.image: invalid image reference"),
    ("waivers:\n  - {policy: p, reason: r, expires: soon}\n",
     ".handoff.yaml:2: at waivers[0].expires: 'soon' does not match"),
    ("kubernetes_version: 1.30\n", ".handoff.yaml:1: at kubernetes_version: 1.3 is not of type 'string'"),
    ("apps: [web]\n", ".handoff.yaml:1: at apps: ['web'] is not of type 'object'"),
])
def test_schema_errors_name_line_and_key(text: str, expected: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_config_text(text)
    assert str(caught.value).startswith(expected)
    assert caught.value.exit_code == 2

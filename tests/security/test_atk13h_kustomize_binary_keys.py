"""atk13h: a kustomization key written as a YAML ``!!binary`` scalar is the field it decodes to for kustomize,
and its base64 text for handoff's scans.

kustomize (sigs.k8s.io/yaml, go-yaml) decodes a ``!!binary`` scalar to its bytes wherever it stands, keys
included: ``!!binary cmVzb3VyY2Vz: [...]`` is ``resources: [...]``. handoff's YAML reading keeps the key as the
text ``cmVzb3VyY2Vz`` (a value tagged ``!!binary`` is kept as its base64 text too, and then refused as "not a
file in the repository", which holds), so ``handoff/render/inputs.py`` ``_references`` (``spec.get(key)``),
``handoff/render/remote.py`` and ``handoff/render/kustomize_fields.py`` ``refuse_case_variants`` never see a
``resources`` or ``configMapGenerator`` key:

- ``.git/config`` (the CI token) read into a ConfigMap (``!!binary <configMapGenerator>:``);
- a kustomization outside the config repo rendered as a base (``!!binary <resources>: [../outside]``);
- a URL fetched at render time, on the CI side and by ``reconcile --once``.

What should hold: a kustomization or plugin config holding a tagged key (``!!binary`` or any tag other than
``!!str``) is refused with file, line and key, or keys are decoded as kustomize decodes them before the scans.
"""

from __future__ import annotations

import base64
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest

from handoff.errors import HandoffError
from handoff.render import render_path
from tests.harness.tools import require_tool
from tests.reconciler.cluster import new_cluster
from tests.security.leaks import leaks
from tests.security.test_atk13c_git_dir_reads import HEADER, TOKEN
from tests.security.test_render_network import Listener, listener  # noqa: F401 (fixture)

pytestmark = pytest.mark.tools

CM = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: web\ndata:\n  a: b\n"
OUTSIDE = "atk13h-outside-resource-b1a7e3"


def _binary(text: str) -> str:
    return "!!binary " + base64.b64encode(text.encode()).decode()


GIT_CONFIG_SPELLINGS = {
    "binary configMapGenerator key": {
        "kustomization.yaml": f"resources: [cm.yaml]\n{_binary('configMapGenerator')}:\n- name: settings\n"
                              f"  files: [cfg=.git/config]\n"},
    "binary generators key": {
        "kustomization.yaml": f"resources: [cm.yaml]\n{_binary('generators')}: [gen.yaml]\n",
        "gen.yaml": "apiVersion: builtin\nkind: ConfigMapGenerator\nmetadata:\n  name: settings\n"
                    "files: [cfg=.git/config]\n"},
}


def _write(root: Path, files: dict[str, str]) -> Path:
    for name, text in {"cm.yaml": CM, **files}.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text, encoding="utf-8")
    return root


def _render(repo: Path) -> dict[str, str]:
    try:
        result = render_path(repo, repo=repo, kind="kustomize")
    except HandoffError as e:
        return {"error": str(e)}
    return {"rendered objects": repr([o.obj for o in result.objects])}


@pytest.mark.parametrize("spelling", sorted(GIT_CONFIG_SPELLINGS))
def test_a_binary_tagged_key_naming_git_config_renders_no_token(tmp_path: Path, spelling: str) -> None:
    require_tool("kustomize")
    repo = _write(tmp_path / "repo", GIT_CONFIG_SPELLINGS[spelling])
    env = {**os.environ, "GIT_CONFIG_NOSYSTEM": "1", "GIT_CONFIG_GLOBAL": os.devnull}
    git = str(require_tool("git"))
    subprocess.run([git, "init", "-q", str(repo)], check=True, env=env)
    subprocess.run([git, "-C", str(repo), "config", "http.https://github.com/.extraheader",
                    f"AUTHORIZATION: basic {HEADER}"], check=True, env=env)
    found = leaks(_render(repo), [TOKEN, HEADER])
    assert found == [], (f"kustomize decoded the key ({spelling}) and read .git/config into the render; handoff's "
                         f"scans saw the key as its base64 text: "
                         f"{sorted({f for _, _, f in found})}")


def test_a_binary_resources_key_reads_no_kustomization_outside_the_repo(tmp_path: Path) -> None:
    require_tool("kustomize")
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "kustomization.yaml").write_text("resources: [cm.yaml]\n")
    (outside / "cm.yaml").write_text(CM.replace("name: web", "name: stolen").replace("a: b", f"a: {OUTSIDE}"))
    repo = _write(tmp_path / "repo", {"kustomization.yaml": f"{_binary('resources')}: [cm.yaml, ../outside]\n"})
    texts = _render(repo)
    assert leaks(texts, [OUTSIDE]) == [], (
        f"`!!binary cmVzb3VyY2Vz: [../outside]` (read by kustomize as `resources`) rendered a kustomization "
        f"outside the config repo: {texts}")


def test_a_binary_resources_key_url_is_not_fetched(tmp_path: Path, listener: Listener) -> None:  # noqa: F811
    require_tool("kustomize")
    repo = _write(tmp_path / "repo", {"kustomization.yaml": f"{_binary('resources')}: [cm.yaml, {listener.url}/cm.yaml]\n"})
    texts = _render(repo)
    assert listener.requests == [], (f"kustomize fetched {listener.requests} at render time through "
                                     f"`!!binary cmVzb3VyY2Vz: [{listener.url}/cm.yaml]`, a key the remote "
                                     f"scan reads as its base64 text: {texts}")


def test_reconcile_once_fetches_nothing_through_a_binary_resources_key(
        apiserver: Any, git_server: Any, tmp_path: Path, listener: Listener) -> None:  # noqa: F811
    """The cluster side: the fetched object would be applied though no (signed) commit covers it."""
    require_tool("kustomize")
    c = new_cluster(apiserver, git_server, tmp_path, {
        "app/kustomization.yaml": f"{_binary('resources')}: [cm.yaml, {listener.url}/cm.yaml]\n", "app/cm.yaml": CM})
    rec = c.reconciler()
    result = rec.reconcile(rec.settings.sources[0])
    assert listener.requests == [], (f"reconcile fetched {listener.requests} at render time through "
                                     f"`!!binary cmVzb3VyY2Vz: [{listener.url}/cm.yaml]` (pass: {result.result}: "
                                     f"{result.message})")


def test_a_binary_tagged_value_named_like_a_repo_file_reads_no_git_config(tmp_path: Path) -> None:
    """A tagged *value* is refused as "not a file in the repository", unless a file of that (base64) name
    exists: the scan then checks ``Y2ZnPS5naXQvY29uZmln`` while kustomize reads ``cfg=.git/config``."""
    require_tool("kustomize")
    decoy = base64.b64encode(b"cfg=.git/config").decode()
    repo = _write(tmp_path / "repo", {
        "kustomization.yaml": f"resources: [cm.yaml]\nconfigMapGenerator:\n- name: settings\n"
                              f"  files: [{_binary('cfg=.git/config')}]\n", decoy: "harmless\n"})
    env = {**os.environ, "GIT_CONFIG_NOSYSTEM": "1", "GIT_CONFIG_GLOBAL": os.devnull}
    git = str(require_tool("git"))
    subprocess.run([git, "init", "-q", str(repo)], check=True, env=env)
    subprocess.run([git, "-C", str(repo), "config", "http.https://github.com/.extraheader",
                    f"AUTHORIZATION: basic {HEADER}"], check=True, env=env)
    found = leaks(_render(repo), [TOKEN, HEADER])
    assert found == [], (f"`files: [!!binary {decoy}]` passed the scan (a repo file of that name exists) and "
                         f"kustomize read the decoded `cfg=.git/config`: {sorted({f for _, _, f in found})}")


def test_a_binary_tagged_resource_named_like_a_repo_dir_reads_nothing_outside(tmp_path: Path) -> None:
    require_tool("kustomize")
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "kustomization.yaml").write_text("resources: [cm.yaml]\n")
    (outside / "cm.yaml").write_text(CM.replace("name: web", "name: stolen").replace("a: b", f"a: {OUTSIDE}"))
    decoy = base64.b64encode(b"../outside").decode()
    repo = _write(tmp_path / "repo", {"kustomization.yaml": f"resources: [cm.yaml, {_binary('../outside')}]\n",
                                      f"{decoy}/kustomization.yaml": "resources: []\n"})
    texts = _render(repo)
    assert leaks(texts, [OUTSIDE]) == [], (
        f"`resources: [!!binary {decoy}]` passed the scan (a repo directory of that name exists) and kustomize "
        f"rendered the decoded `../outside`: {texts}")

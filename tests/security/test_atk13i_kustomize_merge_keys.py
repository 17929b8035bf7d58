"""atk13i: a YAML merge key (``<<``) in a kustomization is resolved one way by kustomize, another by handoff.

kustomize reads a kustomization through sigs.k8s.io/yaml (a go-yaml v2 fork), whose merge differs from the
YAML merge spec that PyYAML (handoff's reading) follows, in two ways:

- a ``<<`` written *after* an explicit key overrides it in go-yaml v2 (it merges into the map as it goes);
  PyYAML keeps the explicit key: ``resources: [cm.yaml]`` then ``<<: {resources: [../outside]}`` is
  ``../outside`` for kustomize and ``cm.yaml`` for handoff's scans;
- in ``<<: [a, b]`` go-yaml v2 lets the *first* map win, PyYAML (here) the last.

So ``handoff/render/inputs.py`` ``_references``, ``handoff/render/remote.py`` ``_entries`` and
``kustomize_fields`` check a list kustomize never reads, and kustomize reads one they never checked:
a kustomization outside the repo is rendered, ``.git/config`` (the CI token) is read into a ConfigMap, a URL is
fetched at render time (CI side and ``reconcile --once``).

What should hold: a merge key in a kustomize input (kustomization, plugin config) is refused with file, line
and key (no real kustomization uses one), or merges are resolved as go-yaml v2 resolves them before the scans.
"""

from __future__ import annotations

import base64
import os
import subprocess
import sys
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
OUTSIDE = "atk13i-outside-resource-5c2e91"

OUTSIDE_SPELLINGS = {
    "merge after the explicit key": "resources: [cm.yaml]\n<<: {resources: [cm.yaml, ../outside]}\n",
    "first map of a merge list": "<<: [{resources: [cm.yaml, ../outside]}, {resources: [cm.yaml]}]\n",
    "anchored map merged after the key": "resources: [cm.yaml]\n<<: &base {resources: [cm.yaml, ../outside]}\n",
}

GIT_CONFIG_SPELLINGS = {
    "configMapGenerator merged after the key": (
        "resources: [cm.yaml]\nconfigMapGenerator: [{name: settings, literals: [a=b]}]\n"
        "<<: {configMapGenerator: [{name: settings, files: [cfg=.git/config]}]}\n"),
    "files merged inside a generator entry": (
        "resources: [cm.yaml]\nconfigMapGenerator:\n- name: settings\n  files: [cm.yaml]\n"
        "  <<: {files: [cfg=.git/config]}\n"),
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


@pytest.mark.parametrize("spelling", sorted(OUTSIDE_SPELLINGS))
def test_a_merge_key_reads_no_kustomization_outside_the_repo(tmp_path: Path, spelling: str) -> None:
    require_tool("kustomize")
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "kustomization.yaml").write_text("resources: [cm.yaml]\n")
    (outside / "cm.yaml").write_text(CM.replace("name: web", "name: stolen").replace("a: b", f"a: {OUTSIDE}"))
    repo = _write(tmp_path / "repo", {"kustomization.yaml": OUTSIDE_SPELLINGS[spelling]})
    texts = _render(repo)
    assert leaks(texts, [OUTSIDE]) == [], (
        f"kustomize resolved the merge key ({spelling}) to `resources: [cm.yaml, ../outside]` and rendered a "
        f"kustomization outside the config repo; handoff's scans saw only `[cm.yaml]`: {texts}")


@pytest.mark.parametrize("spelling", sorted(GIT_CONFIG_SPELLINGS))
def test_a_merge_key_naming_git_config_renders_no_token(tmp_path: Path, spelling: str) -> None:
    require_tool("kustomize")
    repo = _write(tmp_path / "repo", {"kustomization.yaml": GIT_CONFIG_SPELLINGS[spelling]})
    env = {**os.environ, "GIT_CONFIG_NOSYSTEM": "1", "GIT_CONFIG_GLOBAL": os.devnull}
    git = str(require_tool("git"))
    subprocess.run([git, "init", "-q", str(repo)], check=True, env=env)
    subprocess.run([git, "-C", str(repo), "config", "http.https://github.com/.extraheader",
                    f"AUTHORIZATION: basic {HEADER}"], check=True, env=env)
    found = leaks(_render(repo), [TOKEN, HEADER])
    assert found == [], (f"kustomize resolved the merge key ({spelling}) to `files: [cfg=.git/config]` and read "
                         f"the CI token into the render; handoff's scans saw the explicit value: "
                         f"{sorted({f for _, _, f in found})}")


def test_a_merge_key_url_is_not_fetched(tmp_path: Path, listener: Listener) -> None:  # noqa: F811
    require_tool("kustomize")
    repo = _write(tmp_path / "repo", {
        "kustomization.yaml": f"resources: [cm.yaml]\n<<: {{resources: [cm.yaml, {listener.url}/cm.yaml]}}\n"})
    texts = _render(repo)
    assert listener.requests == [], (f"kustomize fetched {listener.requests} at render time through a merge key "
                                     f"written after `resources:` (go-yaml v2 lets it override): {texts}")


def test_reconcile_once_fetches_nothing_through_a_merge_key(
        apiserver: Any, git_server: Any, tmp_path: Path, listener: Listener) -> None:  # noqa: F811
    """The cluster side: the fetched object would be applied though no (signed) commit covers it."""
    require_tool("kustomize")
    c = new_cluster(apiserver, git_server, tmp_path, {
        "app/kustomization.yaml": f"resources: [cm.yaml]\n<<: {{resources: [cm.yaml, {listener.url}/cm.yaml]}}\n",
        "app/cm.yaml": CM})
    rec = c.reconciler()
    result = rec.reconcile(rec.settings.sources[0])
    assert listener.requests == [], (f"reconcile fetched {listener.requests} at render time through a merge key "
                                     f"written after `resources:` (pass: {result.result}: {result.message})")


def test_a_merge_key_in_a_component_reads_no_kustomization_outside_the_repo(tmp_path: Path) -> None:
    require_tool("kustomize")
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "kustomization.yaml").write_text("resources: [cm.yaml]\n")
    (outside / "cm.yaml").write_text(CM.replace("name: web", "name: stolen").replace("a: b", f"a: {OUTSIDE}"))
    repo = _write(tmp_path / "repo", {
        "kustomization.yaml": "resources: [cm.yaml]\ncomponents: [comp]\n",
        "comp/kustomization.yaml": "apiVersion: kustomize.config.k8s.io/v1alpha1\nkind: Component\n"
                                   "resources: []\n<<: {resources: [../../outside]}\n"})
    texts = _render(repo)
    assert leaks(texts, [OUTSIDE]) == [], (
        f"a Component's `resources: []` then `<<: {{resources: [../../outside]}}` is `../../outside` for "
        f"kustomize (go-yaml v2 lets the later merge override): a kustomization outside the repo rendered: {texts}")


def test_a_merge_key_puts_no_git_config_into_a_secret(tmp_path: Path) -> None:
    """``secretGenerator`` merged after the key with ``envs: [.git/config]``: the token lands base64-encoded
    (with a line break inside) in a Secret's ``data``, which the reconciler would apply; decode to find it."""
    require_tool("kustomize")
    repo = _write(tmp_path / "repo", {
        "kustomization.yaml": "resources: [cm.yaml]\nsecretGenerator: [{name: s, literals: [a=b]}]\n"
                              "<<: {secretGenerator: [{name: s, envs: [.git/config]}]}\n"})
    env = {**os.environ, "GIT_CONFIG_NOSYSTEM": "1", "GIT_CONFIG_GLOBAL": os.devnull}
    git = str(require_tool("git"))
    subprocess.run([git, "init", "-q", str(repo)], check=True, env=env)
    subprocess.run([git, "-C", str(repo), "config", "http.https://github.com/.extraheader",
                    f"AUTHORIZATION: basic {HEADER}"], check=True, env=env)
    try:
        objects = [o.obj for o in render_path(repo, repo=repo, kind="kustomize").objects]
    except HandoffError:
        return  # refused: what should hold
    decoded = [base64.b64decode("".join(str(v).split())).decode(errors="replace")
               for o in objects if o.get("kind") == "Secret" for v in (o.get("data") or {}).values()]
    found = [d for d in decoded if HEADER in d or TOKEN in d]
    assert found == [], ("kustomize resolved `<<: {secretGenerator: [{envs: [.git/config]}]}` (written after the "
                         "explicit key) and put the CI token's extraheader into a Secret's data; handoff's scans "
                         f"saw only `literals: [a=b]`: {len(found)} decoded value(s) hold it")


def test_handoff_validate_fetches_nothing_through_a_merge_key(tmp_path: Path, listener: Listener) -> None:  # noqa: F811
    """The CI side through the CLI: ``handoff validate`` of the directory."""
    require_tool("kustomize")
    repo = _write(tmp_path / "repo", {
        "kustomization.yaml": f"resources: [cm.yaml]\n<<: {{resources: [cm.yaml, {listener.url}/cm.yaml]}}\n"})
    done = subprocess.run([sys.executable, "-m", "handoff", "validate", str(repo)], cwd=repo,
                          capture_output=True, text=True, timeout=300, check=False)
    assert listener.requests == [], (f"`handoff validate` fetched {listener.requests} at render time through a "
                                     f"merge key written after `resources:` (exit {done.returncode}: "
                                     f"{done.stdout[-300:]})")

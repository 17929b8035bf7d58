"""atk13g: kustomize reads the fields of a kustomization and of a builtin plugin config *case-insensitively*
(sigs.k8s.io/yaml turns YAML into JSON and Go's ``encoding/json`` matches struct fields ignoring case), while
handoff's input and remote scans read the exact spellings (``spec.get("resources")``, ``entry.get("files")``,
``config.get("files")``). So ``Resources:``, ``ConfigMapGenerator:``, ``Files:`` or ``FILES:`` name what kustomize
reads and handoff never checks:

- ``.git/config`` (the CI token) read into a ConfigMap (generator fields, in the kustomization or a plugin
  config);
- a kustomization outside the config repo rendered as a base (``Resources: [../outside]``);
- a URL fetched at render time (``Resources: [http://127.0.0.1:…]``), zero requests being what the issue asks.

Responsible: ``handoff/render/inputs.py`` ``_references``/``_literal_counts``/``_plugin_references`` and
``_PLUGIN_DIRECTORY_FIELDS``; ``handoff/render/remote.py`` ``_entries``/``_plugin_files`` (exact keys). What
should hold: every spelling kustomize accepts is checked (fold keys to kustomize's field names before the scans),
or a kustomization/plugin config holding a key kustomize would match case-insensitively to a known field but
not spelled exactly is refused with file, line and key.
"""

from __future__ import annotations

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
OUTSIDE = "atk13g-outside-resource-3b8e41"
GIT_CONFIG_SPELLINGS = {
    "ConfigMapGenerator": {"kustomization.yaml": "resources: [cm.yaml]\nConfigMapGenerator:\n- name: settings\n"
                                                 "  files: [cfg=.git/config]\n"},
    "generator Files": {"kustomization.yaml": "resources: [cm.yaml]\nconfigMapGenerator:\n- name: settings\n"
                                              "  Files: [cfg=.git/config]\n"},
    "plugin FILES": {"kustomization.yaml": "resources: [cm.yaml]\ngenerators: [gen.yaml]\n",
                     "gen.yaml": "apiVersion: builtin\nkind: ConfigMapGenerator\nmetadata:\n  name: settings\n"
                                 "FILES: [cfg=.git/config]\n"},
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
def test_a_case_variant_key_naming_git_config_renders_no_token(tmp_path: Path, spelling: str) -> None:
    require_tool("kustomize")
    repo = _write(tmp_path / "repo", GIT_CONFIG_SPELLINGS[spelling])
    env = {**os.environ, "GIT_CONFIG_NOSYSTEM": "1", "GIT_CONFIG_GLOBAL": os.devnull}
    git = str(require_tool("git"))
    subprocess.run([git, "init", "-q", str(repo)], check=True, env=env)
    subprocess.run([git, "-C", str(repo), "config", "http.https://github.com/.extraheader",
                    f"AUTHORIZATION: basic {HEADER}"], check=True, env=env)
    found = leaks(_render(repo), [TOKEN, HEADER])
    assert found == [], (f"kustomize matched the key spelled {spelling!r} case-insensitively and read .git/config "
                         f"into a ConfigMap; handoff's scans read exact keys only: {sorted({f for _, _, f in found})}")


def test_a_capitalised_resources_entry_reads_no_file_outside_the_repo(tmp_path: Path) -> None:
    require_tool("kustomize")
    # a directory: kustomize's own load restrictor refuses a *file* outside the kustomization root, not a base
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "kustomization.yaml").write_text("resources: [cm.yaml]\n")
    (outside / "cm.yaml").write_text(CM.replace("name: web", "name: stolen").replace("a: b", f"a: {OUTSIDE}"))
    repo = _write(tmp_path / "repo", {"kustomization.yaml": "Resources: [cm.yaml, ../outside]\n"})
    texts = _render(repo)
    assert leaks(texts, [OUTSIDE]) == [], (
        f"`Resources: [../outside]` rendered a kustomization outside the config repo: {texts}")


def test_a_capitalised_resources_url_is_not_fetched(tmp_path: Path, listener: Listener) -> None:  # noqa: F811
    require_tool("kustomize")
    repo = _write(tmp_path / "repo", {"kustomization.yaml": f"Resources: [cm.yaml, {listener.url}/cm.yaml]\n"})
    texts = _render(repo)
    assert listener.requests == [], (f"kustomize fetched {listener.requests} at render time through "
                                     f"`Resources: [{listener.url}/cm.yaml]`, which handoff's remote scan does not "
                                     f"read: {texts}")


def test_reconcile_once_fetches_nothing_through_a_capitalised_resources_url(
        apiserver: Any, git_server: Any, tmp_path: Path, listener: Listener) -> None:  # noqa: F811
    """The cluster side: the fetched object would be applied though no (signed) commit covers it."""
    require_tool("kustomize")
    c = new_cluster(apiserver, git_server, tmp_path, {
        "app/kustomization.yaml": f"Resources: [cm.yaml, {listener.url}/cm.yaml]\n", "app/cm.yaml": CM})
    rec = c.reconciler()
    result = rec.reconcile(rec.settings.sources[0])
    assert listener.requests == [], (f"reconcile fetched {listener.requests} at render time through `Resources: "
                                     f"[{listener.url}/cm.yaml]` (pass: {result.result}: {result.message})")

"""atk13h: kustomize's field matching folds *Unicode*, not only ASCII case; handoff's refusal of case-variant
keys (``handoff/render/kustomize_fields.py`` ``refuse_case_variants``, merged from f13g) compares
``key.lower()``, which does not fold them.

kustomize decodes a kustomization and each builtin plugin config with Go's ``encoding/json`` (after
sigs.k8s.io/yaml), whose case-insensitive field match uses Unicode simple folding: ``ſ`` (U+017F, LATIN SMALL
LETTER LONG S) matches ``s`` and ``K`` (U+212A, KELVIN SIGN) matches ``k``. ``"reſources".lower()`` is still
``"reſources"`` in Python, so ``_FOLDED.get(key.lower())`` finds nothing, the key passes, and kustomize reads
it as ``resources`` (or ``files``, ``configMapGenerator``'s ``files`` …):

- ``.git/config`` (the CI token) read into a ConfigMap (``fileſ:`` in a generator, in the kustomization or
  in a plugin config);
- a kustomization outside the config repo rendered as a base (``reſources: [../outside]``);
- a URL fetched at render time (``reſources: [http://127.0.0.1:…]``), on the CI side and by
  ``reconcile --once``.

What should hold: a key that Go's ``strings.EqualFold`` (``unicode.SimpleFold``) matches to a kustomize field
but that is not spelled exactly is refused, one line with file, line and key; simplest: refuse any non-ASCII
key in a kustomization or plugin config outside the free-form maps.
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
OUTSIDE = "atk13h-outside-resource-5c1d07"
LONG_S = "\u017f"
GIT_CONFIG_SPELLINGS = {
    "generator files with a long s": {
        "kustomization.yaml": f"resources: [cm.yaml]\nconfigMapGenerator:\n- name: settings\n"
                              f"  file{LONG_S}: [cfg=.git/config]\n"},
    "plugin files with a long s": {
        "kustomization.yaml": "resources: [cm.yaml]\ngenerators: [gen.yaml]\n",
        "gen.yaml": f"apiVersion: builtin\nkind: ConfigMapGenerator\nmetadata:\n  name: settings\n"
                    f"file{LONG_S}: [cfg=.git/config]\n"},
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
def test_a_unicode_folded_key_naming_git_config_renders_no_token(tmp_path: Path, spelling: str) -> None:
    require_tool("kustomize")
    repo = _write(tmp_path / "repo", GIT_CONFIG_SPELLINGS[spelling])
    env = {**os.environ, "GIT_CONFIG_NOSYSTEM": "1", "GIT_CONFIG_GLOBAL": os.devnull}
    git = str(require_tool("git"))
    subprocess.run([git, "init", "-q", str(repo)], check=True, env=env)
    subprocess.run([git, "-C", str(repo), "config", "http.https://github.com/.extraheader",
                    f"AUTHORIZATION: basic {HEADER}"], check=True, env=env)
    found = leaks(_render(repo), [TOKEN, HEADER])
    assert found == [], (f"kustomize matched the key ({spelling}: U+017F folds to 's' in Go's encoding/json) and "
                         f"read .git/config into the render; refuse_case_variants folds with str.lower() only: "
                         f"{sorted({f for _, _, f in found})}")


def test_a_long_s_resources_entry_reads_no_kustomization_outside_the_repo(tmp_path: Path) -> None:
    require_tool("kustomize")
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "kustomization.yaml").write_text("resources: [cm.yaml]\n")
    (outside / "cm.yaml").write_text(CM.replace("name: web", "name: stolen").replace("a: b", f"a: {OUTSIDE}"))
    repo = _write(tmp_path / "repo", {"kustomization.yaml": f"re{LONG_S}ources: [cm.yaml, ../outside]\n"})
    texts = _render(repo)
    assert leaks(texts, [OUTSIDE]) == [], (
        f"`re\\u017fources: [../outside]` (read by kustomize as `resources`) rendered a kustomization outside "
        f"the config repo: {texts}")


def test_a_long_s_resources_url_is_not_fetched(tmp_path: Path, listener: Listener) -> None:  # noqa: F811
    require_tool("kustomize")
    repo = _write(tmp_path / "repo", {"kustomization.yaml": f"re{LONG_S}ources: [cm.yaml, {listener.url}/cm.yaml]\n"})
    texts = _render(repo)
    assert listener.requests == [], (f"kustomize fetched {listener.requests} at render time through "
                                     f"`re\\u017fources: [{listener.url}/cm.yaml]` (Go folds U+017F to 's'), "
                                     f"which refuse_case_variants and the remote scan pass: {texts}")


def test_reconcile_once_fetches_nothing_through_a_long_s_resources_url(
        apiserver: Any, git_server: Any, tmp_path: Path, listener: Listener) -> None:  # noqa: F811
    """The cluster side: the fetched object would be applied though no (signed) commit covers it."""
    require_tool("kustomize")
    c = new_cluster(apiserver, git_server, tmp_path, {
        "app/kustomization.yaml": f"re{LONG_S}ources: [cm.yaml, {listener.url}/cm.yaml]\n", "app/cm.yaml": CM})
    rec = c.reconciler()
    result = rec.reconcile(rec.settings.sources[0])
    assert listener.requests == [], (f"reconcile fetched {listener.requests} at render time through "
                                     f"`re\\u017fources: [{listener.url}/cm.yaml]` (pass: {result.result}: "
                                     f"{result.message})")

"""atk13l: a kustomization ``resources`` entry holding a newline is never checked, and leaves the repo.

Attack. ``_references`` (``handoff/render/inputs.py``) skips every ``_PATH_LISTS`` entry containing ``"\\n"``
(meant for inline patches in ``patchesStrategicMerge``), ``resources``/``bases``/``components`` included. A
repo commits a directory named ``x\\n`` (git allows newlines in names) and writes
``resources: ["x\\n/../../../other-source/app"]``: the OS resolves ``x\\n/..`` back to the kustomization's
directory, so the entry names another reconciler source's checkout (they sit side by side), and
``_KustomizeInputs`` never looks at it.

Observed:
- unfenced (``HANDOFF_CHILD_ISOLATION=off``; ``auto`` falls back to this where user namespaces are refused,
  which docs/SECURITY.md says is the reconciler's own Pod and most CI containers): kustomize happily builds
  the other source's kustomization (a directory base is not limited by kustomize's load restrictor) and the
  render holds the other team's Secret ``OTHER-SECRET`` (applied into the cluster under this source, shown
  in diffs);
- fenced: kustomize fails, and then handoff's own process (``_quotable`` -> ``_SourceIndex.add_tree``,
  ``handoff/render/kustomize.py``) walks the same entry and reads the other source's kustomization and
  resource files: ``_SourceIndex`` joins ``directory / entry`` with no containment check at all.

Responsible: ``handoff/render/inputs.py`` (``_references``: the ``"\\n" not in entry`` filter),
``handoff/render/kustomize.py`` (``_SourceIndex.add_tree``, ``_add_file``: no ``contained`` check).

What should hold: every ``resources``/``bases``/``components`` string is checked whatever characters it holds
(a multi-line string there is refused, or checked as a path); ``_SourceIndex`` reads only paths that
``contained`` accepts.
"""

from __future__ import annotations

import contextlib
from pathlib import Path

import pytest

from handoff.errors import HandoffError
from handoff.render import kustomize as kustomize_module
from handoff.render import render_path
from tests.harness.tools import require_tool

SECRET = "OTHER-SECRET-atk13l"


def _world(tmp_path: Path) -> Path:
    other = tmp_path / "other-source" / "app"
    other.mkdir(parents=True)
    (other / "kustomization.yaml").write_text("resources: [s.yaml]\n", encoding="utf-8")
    (other / "s.yaml").write_text(
        f"apiVersion: v1\nkind: Secret\nmetadata: {{name: theirs}}\nstringData: {{token: {SECRET}}}\n",
        encoding="utf-8")
    repo = tmp_path / "repo"
    (repo / "app" / "x\n").mkdir(parents=True)
    (repo / "app" / "x\n" / "keep").write_text("", encoding="utf-8")
    (repo / "app" / "kustomization.yaml").write_text(
        'resources:\n  - "x\\n/../../../other-source/app"\n', encoding="utf-8")
    return repo


def test_unfenced_kustomize_renders_another_sources_checkout(tmp_path: Path,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    require_tool("kustomize")
    monkeypatch.setenv("HANDOFF_CHILD_ISOLATION", "off")
    repo = _world(tmp_path)
    try:
        rendered = render_path(repo / "app", repo=repo)
    except HandoffError as e:  # what should happen: refused naming the kustomization, line and key
        assert SECRET not in str(e)
        return
    shown = repr([o.obj for o in rendered.objects])
    assert SECRET not in shown, (
        "a resources entry holding a newline skipped the input check and kustomize rendered another "
        f"source's checkout: {shown[:400]}")


def test_handoffs_own_index_reads_outside_the_repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    require_tool("kustomize")
    repo = _world(tmp_path)
    read: list[Path] = []
    original = kustomize_module.read_text

    def spy(path: Path, *args: object, **kwargs: object) -> str:
        read.append(Path(path))
        return original(path, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(kustomize_module, "read_text", spy)
    with contextlib.suppress(HandoffError):
        render_path(repo / "app", repo=repo)
    real_repo = repo.resolve()
    outside = [p for p in read if real_repo not in p.resolve().parents]
    assert not outside, (f"handoff's own process (_SourceIndex) read files outside the repo: {outside}")

"""atk13l: kustomize generator ``files`` blow handoff's own memory, and are read from outside the repo.

Attack 1 (memory). ``_SourceIndex._add_generator_inputs`` (``handoff/render/kustomize.py``) runs on every
kustomize render (to map objects back, and again in ``_quotable`` when kustomize fails) and reads each
generator ``files``/``envs``/``env`` input with ``read_capped`` (64 MiB), then appends THREE Python strings per
line to ``generated_inputs`` (the line, its value, and ``" ".join(map(str, raw))``). ``_KustomizeInputs``
charges a ``files:`` input as one entry and its bytes against the 16 MiB total only. A committed 15 MiB
file of ``ab\\n`` lines (5M lines) named by ``configMapGenerator: [{name: c, files: [big.txt]}]`` makes
kustomize die on its child memory cap, and handoff itself then peaked at ~1.1 GiB RSS building the mask list
(the reconciler's limit is 256Mi: OOM-killed, every source's delivery stops).

Attack 2 (path). ``_references`` (``handoff/render/inputs.py``) checks ``file.partition("=")[2]`` of a
``files`` entry, ``_SourceIndex`` reads ``f.rpartition("=")[2]``. For ``k=x=../../outside.txt`` the check sees
``app/x=../../outside.txt`` (``x=..`` is one name, a committed directory: the path is the committed
``app/outside.txt``, it passes) and handoff's own
process reads ``app/../../outside.txt``: a file outside the repo (another source's checkout) is read into the
mask list (a masking oracle on its lines; a big one is attack 1 without even committing it).

Responsible: ``handoff/render/kustomize.py`` (``_SourceIndex._add_generator_inputs``), with
``handoff/render/inputs.py`` (``_references``, ``_KustomizeInputs._reference``).

What should hold: handoff reads only the generator inputs the input check accepted (same parse), and what it
keeps from them is bounded (entries, bytes), well under the reconciler's 256Mi.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
from pathlib import Path

import pytest

from handoff.errors import HandoffError
from handoff.render import kustomize as kustomize_module
from handoff.render import render_path
from tests.harness.tools import require_tool

_CHILD = r"""
import sys
from pathlib import Path
from handoff.render import render_path
repo = Path(sys.argv[1])
try:
    render_path(repo / "app", repo=repo)
except Exception as e:
    print(type(e).__name__, str(e)[:200], file=sys.stderr)
# VmHWM, not ru_maxrss: a child started by vfork inherits its parent's high-water mark at exec (the pytest
# process's own, hundreds of MiB in a full run)
hwm = [line for line in Path("/proc/self/status").read_text().splitlines() if line.startswith("VmHWM:")]
print(int(hwm[0].split()[1]) // 1024)
"""


def test_a_big_generator_file_blows_handoffs_memory(tmp_path: Path) -> None:
    require_tool("kustomize")
    repo = tmp_path / "repo"
    (repo / "app").mkdir(parents=True)
    (repo / "app" / "big.txt").write_bytes(b"ab\n" * (5 * 1024 * 1024))  # 15 MiB: under the 16 MiB total
    (repo / "app" / "kustomization.yaml").write_text(
        "configMapGenerator:\n  - name: c\n    files: [big.txt]\n", encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    done = subprocess.run([sys.executable, "-c", _CHILD, str(repo)], env=env, capture_output=True, text=True,
                          timeout=600, check=False)
    peak_mib = int(done.stdout.strip().splitlines()[-1])
    assert peak_mib < 256, (
        f"rendering a kustomization with one 15 MiB generator file peaked at {peak_mib} MiB in handoff's own "
        f"process (_SourceIndex._add_generator_inputs); the reconciler's limit is 256Mi. {done.stderr[-300:]}")


def test_a_generator_file_outside_the_repo_is_read_by_handoff(tmp_path: Path,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    require_tool("kustomize")
    (tmp_path / "outside.txt").write_text("TOKEN=outside-atk13l\n", encoding="utf-8")
    repo = tmp_path / "repo"
    (repo / "app" / "x=..").mkdir(parents=True)  # so the checked path exists (the remote scan wants a file)
    (repo / "app" / "outside.txt").write_text("decoy\n", encoding="utf-8")
    (repo / "app" / "kustomization.yaml").write_text(
        "configMapGenerator:\n  - name: c\n    files: [k=x=../../outside.txt]\n", encoding="utf-8")
    read: list[Path] = []
    original = kustomize_module.read_capped

    def spy(path: Path, *args: object, **kwargs: object) -> bytes:
        read.append(Path(path))
        return original(path, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(kustomize_module, "read_capped", spy)
    with contextlib.suppress(HandoffError):
        render_path(repo / "app", repo=repo)
    real_repo = repo.resolve()
    outside = [p for p in read if real_repo not in p.resolve().parents]
    assert not outside, f"handoff read a generator file outside the repo: {outside}"

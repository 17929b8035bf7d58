"""atk13m: a failing ``kustomize build`` over a tree of Secrets makes handoff build ~165 strings per Secret value.

Attack. When kustomize fails, ``handoff/render/kustomize.py`` ``build`` masks its error with ``_quotable``:
every resource file of the tree is parsed again (``_SourceIndex.add_tree``) and ``secret_strings``
(``handoff/manifests/sensitive.py``) returns, for each Secret value, its raw, escaped, URL, base64, base32 and
hex forms (~15 strings, each with its sha256 mask); ``redact.mask_values`` then builds the ~11
``encoded_forms`` of *each of those* (a form of a form) that is no longer than the error text. The caps on the
tree hold each file to 10,000 entries per mapping (``MAX_KUSTOMIZE_ENTRIES``), the whole tree to the 16 MiB
and 1,000,000-node budgets; none bounds how many Secret values reach the mask list. Here: 10 Secrets of 10,000
short ``stringData`` values each (1.9 MB, ~300,000 nodes: under every cap), and a kustomization that kustomize
refuses at once (``namePrefix: [x]``).

Observed: handoff's own process peaks at ~550 MiB on the error path (10 Secrets; 30 of them, still under
every cap, 1.7 GiB), before the one line of error is printed; the reconciler's limit is 256Mi.

Responsible: ``handoff/render/kustomize.py`` ``build``/``_quotable`` (unbounded list of texts to mask),
``handoff/manifests/sensitive.py`` ``secret_strings`` (forms per value), ``handoff/redact.py``
``mask_values`` (encoded forms of every form).

What should hold: masking a one-line renderer error costs memory bounded by the error, not by the tree
(e.g. search the error for each value instead of building every form of every value up front), and handoff
stays well under 256Mi whatever a tree under the caps holds.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.harness.tools import require_tool

pytestmark = pytest.mark.tools

_CHILD = r"""
import sys
from pathlib import Path
from handoff.render import render_path
repo = Path(sys.argv[1])
try:
    render_path(repo / "app", repo=repo)
    print("rendered", file=sys.stderr)
except Exception as e:
    print(type(e).__name__, str(e)[:300], file=sys.stderr)
hwm = [line for line in Path("/proc/self/status").read_text().splitlines() if line.startswith("VmHWM:")]
print(int(hwm[0].split()[1]) // 1024)
"""

SECRETS = 10
KEYS = 10_000


def test_a_failing_kustomization_of_many_secrets_blows_handoffs_memory(tmp_path: Path) -> None:
    require_tool("kustomize")
    repo = tmp_path / "repo"
    app = repo / "app"
    app.mkdir(parents=True)
    names = []
    for j in range(SECRETS):
        name = f"s{j}.yaml"
        names.append(name)
        body = "".join(f"  k{i}: v{j:02d}{i:05d}\n" for i in range(KEYS))
        (app / name).write_text(f"apiVersion: v1\nkind: Secret\nmetadata:\n  name: s{j}\nstringData:\n{body}",
                                encoding="utf-8")
    (app / "kustomization.yaml").write_text(
        "namePrefix: [x]\nresources:\n" + "".join(f"  - {n}\n" for n in names), encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    done = subprocess.run([sys.executable, "-c", _CHILD, str(repo)], env=env, capture_output=True, text=True,
                          timeout=900, check=False)
    assert done.stdout.strip(), done.stderr[-500:]
    peak_mib = int(done.stdout.strip().splitlines()[-1])
    assert peak_mib < 256, (
        f"a failing kustomization of {SECRETS} Secrets x {KEYS} values (under every cap) took handoff's own "
        f"process to {peak_mib} MiB building the error's mask list (kustomize._quotable, secret_strings, "
        f"mask_values); the reconciler's limit is 256Mi. {done.stderr[-300:]}")

"""atk13m: a render holding many Secret values (under every cap) takes handoff's own process past a gigabyte
while *masking* them, on the success path: validate, plan, and the reconciler's ``plan_source``.

Attack. Every plan ends in ``validate_objects`` (``handoff/validate/__init__.py``):
``masked(report, secret_strings(objects))``. ``secret_strings`` (``handoff/manifests/sensitive.py``) yields ~15
forms per Secret value (raw, escaped, URL, base64, base32, hex, both cases…), and ``KnownValues.__init__``
compiles *one* regular expression alternating all of them (``re.compile("|".join(...))``), plus a
case-folded copy and the ``_Pieces`` index. Python's ``sre`` compiler holds several times the pattern's size
while it compiles. No cap bounds the number of Secret values: a mapping may hold 10,000 entries (kustomize's
width cap), the render 1,000,000 YAML nodes, 16 MiB and 10,000 objects.

Here: a plain tree of 4 Secrets of 10,000 short ``stringData`` values each (770 kB, ~120,000 nodes, 4
objects). Observed: ``plan_source_path`` (what ``handoff validate``, ``handoff plan`` and the reconciler's
``plan_source`` run) peaks at ~520 MiB in handoff's own process and takes ~12 s; 10 such Secrets (1.9 MB)
~1.2 GiB, 30 (5.8 MB, still under every cap) ~3.5 GiB. The reconciler's limit is 256Mi: every pass over such
a revision is OOM-killed, and the restart renders it again (every source of the reconciler stops).

Responsible: ``handoff/manifests/sensitive.py`` ``KnownValues.__init__`` (one alternation of every form of
every value) and ``secret_strings`` (forms per value, no bound on values), called from
``handoff/validate/__init__.py`` ``validate_objects``/``masked``.

What should hold: masking costs memory bounded by the render's caps with a small constant (an index of
values, e.g. an Aho-Corasick automaton or a set probed by substrings, not one giant regex), and a render under
every cap stays well under the reconciler's 256Mi.

Fixed by a cap (``sensitive.MAX_SENSITIVE_VALUES``, 5,000 per render, in docs/SECURITY.md's limits table):
past it the plan fails at once with one line naming the cap, well under 256 MiB; a render under it plans.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

_CHILD = r"""
import sys
from pathlib import Path
from handoff.workflows.plan import plan_source_path
repo = Path(sys.argv[1])
try:
    plan = plan_source_path(repo, None, repo / "app", kind=None)
    print("planned", len(plan.objects), file=sys.stderr)
except Exception as e:
    print(type(e).__name__, str(e)[:300], file=sys.stderr)
hwm = [line for line in Path("/proc/self/status").read_text().splitlines() if line.startswith("VmHWM:")]
print(int(hwm[0].split()[1]) // 1024)
"""

SECRETS = 4
KEYS = 10_000


def test_a_few_wide_secrets_blow_handoffs_memory_while_masking(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    app = repo / "app"
    app.mkdir(parents=True)
    for j in range(SECRETS):
        body = "".join(f"  k{i}: v{j:02d}{i:05d}\n" for i in range(KEYS))
        (app / f"s{j}.yaml").write_text(f"apiVersion: v1\nkind: Secret\nmetadata:\n  name: s{j}\nstringData:\n{body}",
                                        encoding="utf-8")
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    done = subprocess.run([sys.executable, "-c", _CHILD, str(repo)], env=env, capture_output=True, text=True,
                          timeout=900, check=False)
    assert done.stdout.strip(), done.stderr[-500:]
    peak_mib = int(done.stdout.strip().splitlines()[-1])
    assert "planned" in done.stderr or "more than 5,000 sensitive values" in done.stderr, done.stderr[-300:]
    assert peak_mib < 256, (
        f"planning a plain tree of {SECRETS} Secrets x {KEYS} values (under every render cap) took handoff's own "
        f"process to {peak_mib} MiB (validate_objects -> masked -> KnownValues: one regex of every form of every "
        "value); the reconciler's limit is 256Mi")


def test_a_render_under_the_sensitive_value_cap_plans(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    app = repo / "app"
    app.mkdir(parents=True)
    body = "".join(f"  k{i}: v{i:05d}-secret\n" for i in range(4_000))
    (app / "s.yaml").write_text(f"apiVersion: v1\nkind: Secret\nmetadata:\n  name: s\nstringData:\n{body}",
                                encoding="utf-8")
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    done = subprocess.run([sys.executable, "-c", _CHILD, str(repo)], env=env, capture_output=True, text=True,
                          timeout=900, check=False)
    assert "planned 1" in done.stderr, done.stderr[-300:]
    assert int(done.stdout.strip().splitlines()[-1]) < 256

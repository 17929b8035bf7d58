"""atk13c: a ``.handoff.yaml`` under the alias cap still takes handoff past a gigabyte.

Config files have the file limits only (``handoff/manifests/bounds.py``: aliases may add up to 10^7 nodes),
not the render's node budget (10^6). Seven levels of nine aliases (``a1: [*a0, *a0, …]``) are 4.8 million
nodes from a 400-byte ``policies.params`` block, under the cap, so the file is accepted; then
``handoff/config.py`` ``load_config`` expands them: ``handoff/manifests/yamlio.py`` ``to_data`` copies every
alias into new lists and ``handoff/manifests/schemacheck.py`` ``node_lines`` maps each of the 6 million paths
to a line. ``load_config`` alone peaked at 1.0 GiB over 17 s; ``validate`` of one ConfigMap too. The
reconciler loads the repo's ``.handoff.yaml`` for every revision (``handoff/reconciler/loop.py``), so the
same file takes ``reconcile --once`` past the 256Mi of its Pod. These tests fail until a config file is
held to a node budget that fits (aliases counted as expanded) and refused with one line.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest

from tests.harness.git_server import GitServer
from tests.harness.memory import peak_rss
from tests.reconciler.cluster import new_cluster

pytestmark = pytest.mark.tools

POD_LIMIT_KIB = 256 * 1024
CM = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: web\ndata:\n  mode: prod\n"


def _config() -> str:
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x]"]
    lines += [f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 9) + "]" for i in range(1, 7)]
    return ("environments:\n  dev: {render: {type: plain, path: app}}\npolicies:\n  params:\n   lol:\n"
            + "".join(f"    {line}\n" for line in lines))


FILES = {".handoff.yaml": _config(), "app/cm.yaml": CM}
# the same block in a YAML file of a policies.dirs entry (``handoff/policy/loader.py``): 640 MiB
POLICY_FILES = {".handoff.yaml": "environments:\n  dev: {render: {type: plain, path: app}}\npolicies:\n  dirs: [policy]\n",
                "app/cm.yaml": CM,
                "policy/params.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: params\ndata:\n"
                                      + "".join(f"  {line}\n" for line in _config().splitlines()[5:])}
LAYOUTS = {"handoff-config": FILES, "policy-dir-yaml": POLICY_FILES}


@pytest.mark.parametrize("layout", sorted(LAYOUTS))
def test_validate_with_an_aliased_config_stays_within_the_memory_caps(layout: str, tmp_path: Path,
                                                                      record_property: Any) -> None:
    repo = tmp_path / "repo"
    for name, text in LAYOUTS[layout].items():
        (repo / name).parent.mkdir(parents=True, exist_ok=True)
        (repo / name).write_text(text, encoding="utf-8")
    code, own_kib, _ = peak_rss([sys.executable, "-m", "handoff", "validate", "--config-repo", str(repo),
                                 "--env", "dev"], tmp_path / "validate.log")
    out = (tmp_path / "validate.log").read_text(errors="replace")
    print(f"\nvalidate with a 4.8M-node aliased {layout}: exit {code}, peak RSS {own_kib / 1024:.1f} MiB")
    record_property(f"validate_aliased_{layout}_peak_rss_mib", round(own_kib / 1024, 1))
    assert own_kib < POD_LIMIT_KIB, (
        f"a 400-byte aliased block ({layout}, under the 10^7 alias cap) took validate to "
        f"{own_kib / 1024:.0f} MiB: {out[-300:]}")


def test_reconcile_once_with_an_aliased_config_stays_within_the_pod_memory(apiserver: Any, git_server: GitServer,
                                                                          tmp_path: Path,
                                                                          record_property: Any) -> None:
    c = new_cluster(apiserver, git_server, tmp_path, dict(FILES))
    argv = [sys.executable, "-m", "handoff", "reconcile", "--kubeconfig", str(apiserver.kubeconfig), "--repo", c.url,
            "--path", "app", "--revision", "main", "--name", f"src-{c.target_ns}", "--target-namespace", c.target_ns,
            "--namespace", c.control_ns, "--token-file", str(c.token_file), "--git-username", c.username,
            "--workdir", str(c.workdir), "--renderer", "plain", "--no-leader-elect", "--once"]
    code, own_kib, _ = peak_rss(argv, tmp_path / "reconcile.log")
    log = (tmp_path / "reconcile.log").read_text(errors="replace")
    print(f"\nreconcile --once with a 4.8M-node aliased .handoff.yaml: exit {code}, peak RSS {own_kib / 1024:.1f} MiB")
    record_property("reconciler_aliased_config_peak_rss_mib", round(own_kib / 1024, 1))
    assert own_kib < POD_LIMIT_KIB, (
        f"a {len(FILES['.handoff.yaml'])}-byte .handoff.yaml (aliases under the 10^7 cap) took reconcile --once to "
        f"{own_kib / 1024:.0f} MiB, past the reconciler Pod's 256Mi: {log[-300:]}")

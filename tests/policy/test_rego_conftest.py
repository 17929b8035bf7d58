"""A Rego policy written for conftest runs unchanged in handoff and gives conftest's verdicts."""

from __future__ import annotations

import json
import subprocess
from collections import Counter
from pathlib import Path

from handoff.policy.fixtures import objects_from_yaml
from handoff.policy.model import PolicyContext
from handoff.policy.rego import RegoEngine
from handoff.report.model import Severity
from tests.harness.tools import require_tool

FIXTURES = Path(__file__).parent / "fixtures" / "rego"


def conftest_verdicts(conftest: Path, policy_dir: Path, manifest: Path) -> Counter[tuple[str, str]]:
    run = subprocess.run(
        [str(conftest), "test", "--no-color", "--output", "json", "--policy", str(policy_dir), str(manifest)],
        capture_output=True, text=True, timeout=120, check=False,
    )
    assert run.returncode in (0, 1), run.stderr
    verdicts: Counter[tuple[str, str]] = Counter()
    for result in json.loads(run.stdout):
        for failure in result.get("failures") or ():
            verdicts["error", failure["msg"]] += 1
        for warning in result.get("warnings") or ():
            verdicts["warning", warning["msg"]] += 1
    return verdicts


def test_conftest_policy_gives_the_same_verdicts_in_handoff() -> None:
    conftest = require_tool("conftest")
    manifest = FIXTURES / "manifests.yaml"
    expected = conftest_verdicts(conftest, FIXTURES, manifest)

    engine = RegoEngine(sorted(FIXTURES.glob("*.rego")))
    report = engine.evaluate(objects_from_yaml(manifest.read_text(), "manifests.yaml"), PolicyContext())
    ours: Counter[tuple[str, str]] = Counter(
        ("warning" if f.severity is Severity.WARNING else "error", f.message) for f in report.findings
    )

    assert ours == expected
    # Not vacuous: the fixture exercises deny, deny_<name>, violation objects and warn.
    assert ours == Counter({
        ("error", "Containers must not run as root in Deployment root-latest"): 1,
        ("error", "container web uses a latest image"): 1,
        ("error", "Service unlabelled has no app label"): 1,
        ("warning", "Service unlabelled uses NodePort"): 1,
    })

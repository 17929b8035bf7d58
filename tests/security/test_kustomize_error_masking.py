"""A failing ``kustomize build`` quotes what it choked on: a generator literal without ``=``, an env-file
line that is not UTF-8 (raw and as a list of byte values), a Secret resource's value. Every such value
of the tree is masked in the one-line render error (``handoff/render/kustomize.py``, ``_quotable``), so
it appears in no output of ``validate`` (text, json, junit, sarif). Real kustomize."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.harness.tools import require_tool
from tests.security.leaks import leaks

pytestmark = pytest.mark.tools

SECRET = "KustomizeFail-Secret-4242"
ENV_LINE = b"b\xff" + SECRET.encode() + b"\n"
SHAPES = {
    "secret-literal-without-equals": ("secretGenerator:\n- name: s\n  literals:\n  - " + SECRET + "\n", None),
    "configmap-literal-without-equals": ("configMapGenerator:\n- name: c\n  literals:\n  - " + SECRET + "\n",
                                         None),
    "secret-env-file-line": ("secretGenerator:\n- name: s\n  envs: [s.env]\n", ENV_LINE),
    "configmap-env-file-line": ("configMapGenerator:\n- name: c\n  envs: [s.env]\n", b"A=1\n" + ENV_LINE),
    "base-secret-env": ("resources: [base]\n", ENV_LINE),
    "failing-patch-of-a-secret": ("resources: [secret.yaml]\npatches:\n- target: {kind: Secret, name: s}\n"
                                  "  patch: |\n    - {op: test, path: /stringData/password, value: nope}\n", None),
    "failing-replacement-of-a-secret": (
        "resources: [secret.yaml]\nreplacements:\n- source: {kind: Secret, name: s, fieldPath: stringData.password}\n"
        "  targets:\n  - select: {kind: Secret, name: s}\n    fieldPaths: [metadata.labels.x.y]\n", None),
}
SECRET_RESOURCE = f"apiVersion: v1\nkind: Secret\nmetadata: {{name: s}}\nstringData: {{password: {SECRET}}}\n"


def _repo(tmp_path: Path, kustomization: str, env_file: bytes | None) -> Path:
    overlay = tmp_path / "envs" / "dev"
    overlay.mkdir(parents=True)
    where = overlay
    if kustomization.startswith("resources: [base]"):
        where = overlay / "base"
        where.mkdir()
        (where / "kustomization.yaml").write_text("secretGenerator:\n- name: s\n  envs: [s.env]\n")
    (overlay / "kustomization.yaml").write_text(kustomization)
    (overlay / "secret.yaml").write_text(SECRET_RESOURCE)
    if env_file is not None:
        (where / "s.env").write_bytes(env_file)
    (tmp_path / ".handoff.yaml").write_text("environments:\n  dev: {render: {type: kustomize, path: envs/dev}}\n")
    return tmp_path


@pytest.mark.parametrize("shape", sorted(SHAPES))
@pytest.mark.parametrize("output", ["text", "json", "junit", "sarif"])
def test_a_failing_kustomize_build_leaks_no_value_it_quotes(tmp_path: Path, shape: str, output: str) -> None:
    require_tool("kustomize")
    repo = _repo(tmp_path, *SHAPES[shape])
    report = tmp_path / "report.out"
    done = subprocess.run([sys.executable, "-m", "handoff", "validate", "--config-repo", str(repo), "--env", "dev",
                           "--output", output, "--output-file", str(report)], capture_output=True, text=True,
                          timeout=300, check=False)
    assert done.returncode != 0
    texts = {"stdout": done.stdout, "stderr": done.stderr,
             "report": report.read_text(errors="replace") if report.exists() else ""}
    assert leaks(texts, [SECRET]) == []
    assert "kustomize build" in done.stdout + done.stderr + texts["report"]
    assert " ".join(map(str, SECRET.encode())) not in "".join(texts.values())  # kustomize's byte-list form

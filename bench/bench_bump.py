"""Bump latency on the whole shared corpus: handoff vs `yq -i` (mikefarah/yq) doing the same edits.

For every corpus file, every image field found (helm repository/tag maps, `image:` strings, kustomize
`images[].newTag`) is bumped to a new tag, one edit per run, in a fresh copy of the file:
  * handoff, in-process: `plan_bump` + `apply_plan` (what a CI job pays per file after start-up);
  * handoff, CLI: one `handoff bump` process per edit (includes Python start-up);
  * yq: one `yq -i '<path> = "<value>"'` process per edit.
Each side's result is diffed against the original: "churn" counts edits whose file differs on any
line other than the target line (reformatting, lost blank lines, re-quoting).

Render verification: the cost it adds to a propose. The same proposals (PR mode, local forge, the
harness's real git server, a kustomize environment of 40 Deployments rendered by the real kustomize) run
alternately with the default editor (the bump is proven by rendering the environment before and after)
and with one that skips the proof; the target is within 2x of the propose time without it.
``--verify-only`` measures only this part. Writes bench/results/bump.md (with the load average).
"""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from handoff.edit.bump import BumpResult, apply_plan, bump, plan_bump  # noqa: E402
from handoff.errors import HandoffError  # noqa: E402
from handoff.git.repo import GitAuth  # noqa: E402
from handoff.imageref import ImageRef, parse  # noqa: E402
from handoff.manifests import yamlio  # noqa: E402
from handoff.workflows.propose import BumpEditor, ProposeOptions, propose  # noqa: E402
from tests.bump.test_corpus import Field, discover  # noqa: E402
from tests.harness.git_server import GitServer  # noqa: E402
from tests.harness.tools import find_tool  # noqa: E402

CORPUS = next((p for p in (ROOT.parent / "shared" / "corpus", Path("/work/shared/corpus")) if p.is_dir()),
              Path("/work/shared/corpus"))
YQ = ROOT / ".tools" / "bin" / "yq"
HANDOFF = ROOT / ".venv" / "bin" / "handoff"
NEW_TAG = "9.9.9-bench"
RUNS = 3


@dataclass(frozen=True)
class Edit:
    rel: str
    field: Field
    image: str
    value: str  # the full value written at the target


@dataclass
class Side:
    seconds: list[float]
    churn: int = 0
    failed: int = 0


def edits() -> list[Edit]:
    out = []
    for path in sorted(CORPUS.rglob("*.y*ml")):
        rel = path.relative_to(CORPUS).as_posix()
        try:
            documents = yamlio.load_file(path, display=rel)[1]
        except HandoffError:
            continue
        for field in discover(documents):
            if field.kind == "doc-image":
                continue
            try:
                if field.kind == "image":
                    name = parse(field.value).name
                    out.append(Edit(rel, field, f"{name}:{NEW_TAG}", f"{name}:{NEW_TAG}"))
                elif field.kind == "kustomize":
                    out.append(Edit(rel, field, f"{field.image_name}:{NEW_TAG}", NEW_TAG))
                else:
                    out.append(Edit(rel, field, f"example/app:{NEW_TAG}", NEW_TAG))
            except HandoffError:
                continue
    return out


def handoff_config(edit: Edit) -> str:
    field = edit.field
    if field.kind == "image":
        target = f"{{type: helm, path: f.yaml, image: {field.keypath!r}}}"
    elif field.kind == "tag":
        target = f"{{type: helm, path: f.yaml, tag: {field.keypath!r}}}"
    else:
        target = f"{{type: kustomize, path: f.yaml, name: {field.keypath!r}}}"
    return f"apps:\n  app:\n    targets:\n      - {target}\n"


def yq_expression(edit: Edit) -> str:
    field = edit.field
    if field.kind == "kustomize":
        return f'(.images[] | select(.name == "{field.keypath}")).newTag = "{edit.value}"'
    path = ""
    for part in field.keypath.replace("[", ".[").split("."):
        if part.startswith("["):
            path += part
        elif part:
            path += f'.["{part}"]'
    return f'{path} = "{edit.value}"'


def only_target_changed(before: bytes, after: bytes, line: int) -> bool:
    old = before.splitlines(keepends=True)
    new = after.splitlines(keepends=True)
    if len(old) != len(new):
        return False
    return [i for i, (a, b) in enumerate(zip(old, new, strict=True)) if a != b] == [line]


def prepare(work: Path, edit: Edit) -> Path:
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    (work / ".handoff.yaml").write_text(handoff_config(edit))
    shutil.copyfile(CORPUS / edit.rel, work / "f.yaml")
    return work / "f.yaml"


def run_in_process(work: Path, edit: Edit) -> tuple[float, bytes]:
    target = prepare(work, edit)
    start = time.perf_counter()
    apply_plan(plan_bump(work, edit.image, app="app"))
    return time.perf_counter() - start, target.read_bytes()


def run_cli(work: Path, edit: Edit) -> tuple[float, bytes]:
    target = prepare(work, edit)
    start = time.perf_counter()
    subprocess.run([str(HANDOFF), "bump", "--image", edit.image, "--app", "app", "--config-repo", str(work)],
                   check=True, capture_output=True)
    return time.perf_counter() - start, target.read_bytes()


def run_yq(work: Path, edit: Edit) -> tuple[float, bytes]:
    target = prepare(work, edit)
    start = time.perf_counter()
    subprocess.run([str(YQ), "-i", yq_expression(edit), str(target)], check=True, capture_output=True)
    return time.perf_counter() - start, target.read_bytes()


def measure(name: str, runner: object, all_edits: list[Edit], work: Path) -> Side:
    side = Side(seconds=[])
    for edit in all_edits:
        original = (CORPUS / edit.rel).read_bytes()
        times = []
        result = b""
        try:
            for _ in range(RUNS):
                seconds, result = runner(work, edit)  # type: ignore[operator]
                times.append(seconds)
        except (subprocess.CalledProcessError, HandoffError) as e:
            side.failed += 1
            print(f"  {name} failed on {edit.rel} {edit.field.keypath}: {e}", file=sys.stderr)
            continue
        side.seconds.append(statistics.median(times))
        if not only_target_changed(original, result, edit.field.line):
            side.churn += 1
    return side


VERIFY_RUNS = 5
WORKLOADS = 40
VERIFY_SECTION = "## Render verification per propose"


class UnverifiedEditor(BumpEditor):
    """The default editor without the render proof (what ``--no-verify-render`` does to a bump)."""

    def apply(self, repo: Path, image: ImageRef, app: str, env: str | None) -> BumpResult:
        return bump(repo, image, app=app, env=env)


def verify_repo_files() -> dict[str, str | bytes]:
    deployment = ("apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: svc{i}\nspec:\n"
                  "  selector: {{matchLabels: {{app: svc{i}}}}}\n  template:\n"
                  "    metadata: {{labels: {{app: svc{i}}}}}\n    spec:\n      containers:\n"
                  "      - name: svc{i}\n        image: {image}\n")
    files: dict[str, str | bytes] = {
        f"base/svc{i:02d}.yaml": deployment.format(i=i, image="registry.example/svc:1.0.0" if i else
                                                    "registry.example/web:1.0.0")
        for i in range(WORKLOADS)}
    resources = ", ".join(f"svc{i:02d}.yaml" for i in range(WORKLOADS))
    files["base/kustomization.yaml"] = f"resources: [{resources}]\n"
    files["envs/dev/kustomization.yaml"] = ("resources: [../../base]\nimages:\n- name: registry.example/web\n"
                                            "  newTag: 1.0.0\n")
    files[".handoff.yaml"] = ("environments:\n  dev: {render: {type: kustomize, path: envs/dev}}\napps:\n  web:\n"
                              "    image: registry.example/web\n    targets:\n"
                              "      - {type: kustomize, path: envs/dev/kustomization.yaml, name: registry.example/web}\n")
    return files


def verification_cost() -> list[str]:
    git_binary = find_tool("git")
    if git_binary is None or find_tool("kustomize") is None:
        raise SystemExit("git and kustomize are needed: link .tools")
    times: dict[str, list[float]] = {"verified": [], "unverified": []}
    with tempfile.TemporaryDirectory(prefix="handoff-bench-verify-") as tmp:
        server = GitServer(git_binary, Path(tmp) / "server")
        server.start()
        try:
            assert server.username and server.password
            auth = GitAuth(server.username, server.password)
            for run in range(VERIFY_RUNS):
                for name, editor in (("verified", BumpEditor()), ("unverified", UnverifiedEditor())):
                    url = server.create_repo(f"{name}{run}", verify_repo_files())
                    opts = ProposeOptions(image=f"registry.example/web:1.{run + 1}.0", app="web", env="dev",
                                          config_repo=url, forge="local", git_auth=auth)
                    start = time.perf_counter()
                    result = propose(opts, editor=editor)
                    times[name].append(time.perf_counter() - start)
                    if result.operation != "created":
                        raise SystemExit(f"{name}: expected created, got {result.operation}: {result.message}")
        finally:
            server.stop()
    verified, unverified = statistics.median(times["verified"]), statistics.median(times["unverified"])
    load = " / ".join(f"{x:.2f}" for x in os.getloadavg())
    return [
        VERIFY_SECTION,
        "",
        f"One `propose` (PR mode, local forge, real git server, env `dev` rendered by kustomize: "
        f"{WORKLOADS} Deployments), median of {VERIFY_RUNS} alternating runs each. Load average at the end "
        f"(1/5/15 min): {load} on {os.cpu_count()} CPUs, shared with other jobs.",
        "",
        "| propose | median ms | min ms | max ms |",
        "|---|---:|---:|---:|",
        *(f"| {label} | {statistics.median(t) * 1000:.0f} | {min(t) * 1000:.0f} | {max(t) * 1000:.0f} |"
          for label, t in (("with render verification (default)", times["verified"]),
                           ("without (skip_verification)", times["unverified"]))),
        "",
        f"Render verification costs {(verified - unverified) * 1000:.0f} ms per propose: "
        f"{verified / unverified:.2f}x the propose time without it (target: within 2x).",
        "",
        "Run: `.venv/bin/python bench/bench_bump.py --verify-only` (this section only).",
    ]


def write_section(out: Path, section: list[str]) -> str:
    """Replace the render-verification section of ``out`` (keeping the corpus part), or append it."""
    text = out.read_text() if out.exists() else ""
    head = text.split(VERIFY_SECTION, 1)[0].rstrip("\n")
    report = (head + "\n\n" if head else "") + "\n".join(section) + "\n"
    out.write_text(report)
    return report


def main() -> None:
    out = ROOT / "bench" / "results" / "bump.md"
    if "--verify-only" in sys.argv[1:]:
        print(write_section(out, verification_cost()))
        return
    if not YQ.exists():
        raise SystemExit(f"{YQ} not found: run `make tools` first")
    all_edits = edits()
    files = len({e.rel for e in all_edits})
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp) / "repo"
        sides = {
            "handoff (in-process)": measure("handoff", run_in_process, all_edits, work),
            "handoff (CLI process)": measure("handoff-cli", run_cli, all_edits, work),
            "yq -i (process)": measure("yq", run_yq, all_edits, work),
        }
    yq_version = subprocess.run([str(YQ), "--version"], capture_output=True, text=True, check=True).stdout.strip()
    yq_median = statistics.median(sides["yq -i (process)"].seconds)
    lines = [
        "# Bump latency: handoff vs yq -i",
        "",
        f"{len(all_edits)} image-field edits over {files} corpus files (`/work/shared/corpus`), median of "
        f"{RUNS} runs per edit, one edit per fresh copy. {yq_version}.",
        "",
        "| tool | median ms/edit | mean ms/edit | total s | ratio vs yq (median) | edits with churn | failed |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for name, side in sides.items():
        median = statistics.median(side.seconds)
        lines.append(
            f"| {name} | {median * 1000:.2f} | {statistics.mean(side.seconds) * 1000:.2f} | "
            f"{sum(side.seconds):.2f} | {median / yq_median:.2f}x | {side.churn} / {len(side.seconds)} | "
            f"{side.failed} |"
        )
    lines += [
        "",
        "churn = the file differs from the original on a line other than the edited value's line.",
        "ratio < 1 means faster than yq. The CLI row includes Python interpreter start-up per edit.",
        "",
        "Run: `.venv/bin/python bench/bench_bump.py`",
    ]
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("\n".join(lines) + "\n")
    print(write_section(out, verification_cost()))


if __name__ == "__main__":
    main()

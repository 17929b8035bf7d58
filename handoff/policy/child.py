"""The policy sandbox's child: ``python -m handoff.policy.child PROGRESS_FILE``, started by
``handoff.policy.sandbox`` only.

It reads one request from stdin, empties its own environment (so Rego's ``opa.runtime().env`` is
``{}``), evaluates the repo's policies and writes one answer to the stdout it was started with. Before
anything is evaluated file descriptor 1 points at ``/dev/null``: what a policy prints (Rego ``print``,
rego-cpp's own messages) is dropped, never mixed into the answer. Before each engine it writes that
engine's name to PROGRESS_FILE, so the parent can name the files of an engine the memory cap killed.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from handoff.errors import HandoffError
from handoff.policy.cel_engine import CelEngine
from handoff.policy.model import PolicyContext, PolicyEngine
from handoff.policy.rego import RegoEngine
from handoff.policy.sandbox import (
    RepoPolicies,
    error_data,
    findings_data,
    placed_objects,
    policy_from_data,
)
from handoff.policy.vap import load_admission_documents
from handoff.report.model import Finding


def repo_policies(request: Mapping[str, Any]) -> RepoPolicies:
    return RepoPolicies(
        policies=tuple(policy_from_data(p) for p in request.get("policies") or ()),
        admission=tuple((doc, source) for doc, source in request.get("admission") or ()),
        params=tuple((doc, source) for doc, source in request.get("params") or ()),
        rego=dict(request.get("rego") or {}),
        rego_namespaces=tuple(request.get("rego_namespaces") or ("main",)),
    )


class _Evaluation:
    """The engines of one request, run in order; ``engine`` is the one running now."""

    def __init__(self, request: Mapping[str, Any], progress: Path | None) -> None:
        self.request = request
        self.policies = repo_policies(request)
        self.progress = progress
        self.engine = ""

    def _enter(self, engine: str) -> None:
        self.engine = engine
        if self.progress is not None:
            self.progress.write_text(engine, encoding="utf-8")

    def _engine(self, name: str) -> PolicyEngine:
        policies = self.policies
        if name == "cel":
            return CelEngine(policies.policies)
        if name == "vap":
            return load_admission_documents(policies.admission, [doc for doc, _ in policies.params])
        return RegoEngine((), policies.rego_namespaces, sources=policies.rego)

    def run(self) -> list[Finding]:
        objects = placed_objects(self.request.get("objects") or ())
        context_data = self.request.get("context") or {}
        context = PolicyContext(params=context_data.get("params") or {}, env=str(context_data.get("env", "")))
        present = {"cel": self.policies.policies, "vap": self.policies.admission, "rego": self.policies.rego}
        findings: list[Finding] = []
        for name, declared in present.items():
            if not declared:
                continue
            self._enter(name)
            findings += self._engine(name).evaluate(objects, context).findings
        return findings

    def failed(self, error: Exception) -> dict[str, Any]:
        """An error no engine maps (a policy drove it somewhere unexpected), as one line naming the files."""
        text = str(error).strip().splitlines()
        detail = f"{type(error).__name__}: {text[0][:200]}" if text else type(error).__name__
        files = self.policies.files(self.engine)
        return {"type": "PolicyError", "message": f"evaluating repo policies failed: {detail}",
                "file": ", ".join(files[:3]) or None, "line": None, "key": None}


def main(argv: Sequence[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else list(argv)
    answer_fd = os.dup(1)
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)  # a policy's print() and rego-cpp's messages go nowhere
    os.close(devnull)
    request = json.load(sys.stdin.buffer)
    os.environ.clear()  # unsets the C environment too, which rego-cpp's opa.runtime() reads
    evaluation = _Evaluation(request, Path(args[0]) if args else None)
    try:
        answer: dict[str, Any] = {"findings": findings_data(evaluation.run())}
    except HandoffError as e:
        answer = {"error": error_data(e)}
    except Exception as e:  # any failure on repo content is one line in the parent, not a crash
        answer = {"error": evaluation.failed(e)}
    with os.fdopen(answer_fd, "w", encoding="utf-8") as out:
        json.dump(answer, out)
    return 0


if __name__ == "__main__":
    sys.exit(main())

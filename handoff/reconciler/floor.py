"""The operator's policy floor: policies that run on every revision whatever its ``.handoff.yaml`` says.

The repo's own plan may add policies and request waivers. A finding of a floor policy is dropped only
when the repo requested a waiver for it (a ``waivers:`` entry or a ``handoff.dev/waive`` annotation) and
one of the operator's allowed waivers matches it too; ``policies: {builtin: false}``, ``disable:`` and
wildcard waivers in the repo cannot switch the floor off. What the repo waived or disabled is listed so
status can show it.

The floor enforces Pod Security ``baseline``: every pack policy marked ``podSecurity: baseline`` runs
here enabled and as an error, whatever severity ``handoff validate`` gives it (host ports and added
capabilities are warnings there, because common charts use them; in the cluster they reach the node).
It reads a pod spec inside any other kind too (a custom resource its controller runs pods from), at the
places :data:`handoff.policy.paths.EMBEDDED_POD_SPEC_PATHS` names: the baseline policies see that pod
template as a Deployment's, and their findings name the custom resource and its own paths."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from handoff.config import Config
from handoff.policy.model import PolicyContext, PolicyObject
from handoff.policy.paths import embedded_pod_spec_paths
from handoff.policy.runner import PolicyCheck, PolicyOptions
from handoff.policy.waivers import apply_waivers, waiver_matches
from handoff.reconciler.config import PolicyFloor
from handoff.report.model import Finding, ObjectRef, Severity, ValidationReport, WaiverUse
from handoff.workflows.plan import Plan


@dataclass(frozen=True)
class FloorVerdict:
    errors: tuple[Finding, ...]  # floor findings no allowed waiver covers: the revision is invalid
    waivers: tuple[WaiverUse, ...]  # every waiver the revision used (repo waivers, floor waivers allowed)
    disabled: tuple[str, ...]  # repo policy switches that turned policies off ("builtin", policy ids)


_VIEW_SPEC = "spec.template.spec"  # where the stand-in Deployment holds the embedded pod spec


def _baseline_params(check: PolicyCheck) -> dict[str, dict[str, object]]:
    return {p.id: {"enabled": True, "severity": "error"} for p in check.policy_set.policies
            if p.pod_security == "baseline"}


def _baseline_only(check: PolicyCheck) -> dict[str, dict[str, object]]:
    return {p.id: {"enabled": True, "severity": "error"} if p.pod_security == "baseline"
            else {"enabled": False} for p in check.policy_set.policies}


@dataclass(frozen=True)
class _PodSpecView:
    """An object of another kind with a pod spec inside (at ``at``), shown to the pack as a Deployment
    whose template is that pod template; where a path points is asked of the object itself."""

    item: PolicyObject
    at: str
    obj: Mapping[str, Any]

    @property
    def file(self) -> str:
        return self.item.file

    @property
    def line(self) -> int:
        return self.item.line

    @property
    def ref(self) -> ObjectRef:
        return self.item.ref

    def original(self, path: str) -> str:
        return self.at + path.removeprefix(_VIEW_SPEC) if path.startswith(_VIEW_SPEC) else path

    def locate(self, path: str) -> tuple[int, int]:
        return self.item.locate(self.original(path))

    def where(self, path: str) -> tuple[str, int, int]:
        return self.item.where(self.original(path))


def _template(obj: Mapping[str, Any], spec_path: str) -> Any:
    node: Any = obj
    for step in spec_path.removesuffix(".spec").split("."):
        node = node[step]
    return node


def _pod_spec_views(objects: Iterable[PolicyObject]) -> list[_PodSpecView]:
    views = []
    for item in objects:
        for at in embedded_pod_spec_paths(item.obj):
            template = _template(item.obj, at)
            stand_in = {"apiVersion": "apps/v1", "kind": "Deployment",
                        "metadata": item.obj.get("metadata") or {}, "spec": {"template": template}}
            views.append(_PodSpecView(item, at, stand_in))
    return views


def _embedded_findings(check: PolicyCheck, objects: Sequence[PolicyObject], env: str) -> list[Finding]:
    """The baseline policies' findings on the pod specs inside objects of other kinds, on their own paths.
    The views of one path are judged together: a finding names its object, so within one batch each
    object may have only one view."""
    by_path: dict[str, list[_PodSpecView]] = {}
    for each in _pod_spec_views(objects):
        by_path.setdefault(each.at, []).append(each)
    context = PolicyContext(env=env, params=_baseline_only(check))
    findings = []
    for views in by_path.values():
        by_ref = {v.ref: v for v in views}
        for engine in check.engines:
            for finding in engine.evaluate(views, context).findings:
                view = by_ref.get(finding.object) if finding.object is not None else None
                findings.append(replace(finding, path=view.original(finding.path)) if view else finding)
    return findings


def _check(floor: PolicyFloor) -> PolicyCheck | None:
    if not floor.builtin:
        return None
    check = PolicyCheck(PolicyOptions(builtin=True))
    if "*" in floor.policies:
        return check
    ids = [p.id for p in check.policy_set.policies if p.id not in floor.policies]
    return PolicyCheck(PolicyOptions(builtin=True, disable=tuple(ids)))


def _repo_requests(findings: Sequence[Finding], objects: Sequence[PolicyObject],
                   config: Config | None) -> tuple[WaiverUse, ...]:
    """The repo's waivers (its ``waivers:`` entries, ``handoff.dev/waive`` annotations) that match
    ``findings``: the plan's own check never saw these (its pack matches built-in kinds only)."""
    if not findings:
        return ()
    waived = apply_waivers(ValidationReport(findings=tuple(findings)), objects,
                           tuple(config.waivers) if config else ())
    return tuple(w for w in waived.waivers if w.object is not None and not w.expired)


def disabled_by_repo(config: Config | None) -> tuple[str, ...]:
    if config is None:
        return ()
    return (() if config.policies.builtin else ("builtin",)) + tuple(config.policies.disable)


def check(floor: PolicyFloor, plan: Plan, config: Config | None) -> FloorVerdict:
    """The floor's findings on ``plan``'s objects, with the repo's waivers honoured only where allowed."""
    requested = {(w.rule, w.object) for w in plan.report.waivers if not w.expired}
    policy_check = _check(floor)
    errors: list[Finding] = []
    allowed: list[WaiverUse] = []
    embedded_requests: tuple[WaiverUse, ...] = ()
    if policy_check is not None:
        context = PolicyContext(env=plan.env or "", params=_baseline_params(policy_check))
        # the engines, not PolicyCheck(): no repo waiver applies here
        found = [f for engine in policy_check.engines
                 for f in engine.evaluate(plan.objects, context).findings]
        embedded = _embedded_findings(policy_check, plan.objects, plan.env or "")
        embedded_requests = _repo_requests(embedded, plan.objects, config)
        requested |= {(w.rule, w.object) for w in embedded_requests}
        for finding in found + embedded:
            if finding.severity < Severity.ERROR:
                continue
            waiver = next((w for w in floor.waivers if waiver_matches(w, finding.rule, finding.object)),
                          None)
            if waiver is not None and (finding.rule, finding.object) in requested:
                allowed.append(WaiverUse(rule=finding.rule, object=finding.object, reason=waiver.reason,
                                         source=f"reconciler config: policyFloor.waivers[{waiver.line}]"))
            else:
                errors.append(finding)
    return FloorVerdict(errors=tuple(errors),
                        waivers=plan.report.waivers + embedded_requests + tuple(allowed),
                        disabled=disabled_by_repo(config))

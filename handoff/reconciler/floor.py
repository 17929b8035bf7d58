"""The operator's policy floor: policies that run on every revision whatever its ``.handoff.yaml`` says.

The repo's own plan may add policies and request waivers. A finding of a floor policy is dropped only
when the repo requested a waiver for it (a ``waivers:`` entry or a ``handoff.dev/waive`` annotation) and
one of the operator's allowed waivers matches it too; ``policies: {builtin: false}``, ``disable:`` and
wildcard waivers in the repo cannot switch the floor off. What the repo waived or disabled is listed so
status can show it.

The floor enforces Pod Security ``baseline``: every pack policy marked ``podSecurity: baseline`` runs
here enabled and as an error, whatever severity ``handoff validate`` gives it (host ports and added
capabilities are warnings there, because common charts use them; in the cluster they reach the node)."""

from __future__ import annotations

from dataclasses import dataclass

from handoff.config import Config
from handoff.policy.model import PolicyContext
from handoff.policy.runner import PolicyCheck, PolicyOptions
from handoff.policy.waivers import waiver_matches
from handoff.reconciler.config import PolicyFloor
from handoff.report.model import Finding, Severity, WaiverUse
from handoff.workflows.plan import Plan


@dataclass(frozen=True)
class FloorVerdict:
    errors: tuple[Finding, ...]  # floor findings no allowed waiver covers: the revision is invalid
    waivers: tuple[WaiverUse, ...]  # every waiver the revision used (repo waivers, floor waivers allowed)
    disabled: tuple[str, ...]  # repo policy switches that turned policies off ("builtin", policy ids)


def _baseline_params(check: PolicyCheck) -> dict[str, dict[str, object]]:
    return {p.id: {"enabled": True, "severity": "error"} for p in check.policy_set.policies
            if p.pod_security == "baseline"}


def _check(floor: PolicyFloor) -> PolicyCheck | None:
    if not floor.builtin:
        return None
    check = PolicyCheck(PolicyOptions(builtin=True))
    if "*" in floor.policies:
        return check
    ids = [p.id for p in check.policy_set.policies if p.id not in floor.policies]
    return PolicyCheck(PolicyOptions(builtin=True, disable=tuple(ids)))


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
    if policy_check is not None:
        context = PolicyContext(env=plan.env or "", params=_baseline_params(policy_check))
        for engine in policy_check.engines:  # the engines, not PolicyCheck(): no repo waiver applies here
            for finding in engine.evaluate(plan.objects, context).findings:
                if finding.severity < Severity.ERROR:
                    continue
                waiver = next((w for w in floor.waivers if waiver_matches(w, finding.rule, finding.object)),
                              None)
                if waiver is not None and (finding.rule, finding.object) in requested:
                    allowed.append(WaiverUse(rule=finding.rule, object=finding.object, reason=waiver.reason,
                                             source=f"reconciler config: policyFloor.waivers[{waiver.line}]"))
                else:
                    errors.append(finding)
    return FloorVerdict(errors=tuple(errors), waivers=plan.report.waivers + tuple(allowed),
                        disabled=disabled_by_repo(config))

"""``rbacreach.why_rules_reach``: what a role's rules, bound in a namespace (or cluster-wide), can do where git
credentials are (atk14i F3, atk14j F1-F3): read the Secret (patch and update answer with it too), or
escalate there as Kubernetes' RBAC good-practices page lists it."""

from __future__ import annotations

from typing import Any

import pytest

from handoff.reconciler.manifests import GIT_CREDENTIALS_SECRET
from handoff.reconciler.rbacreach import Guarded, why_rules_reach

GUARDED = Guarded.of({("team-a", "git-creds")}, "handoff-system")


def rule(resources: list[str], verbs: list[str], groups: tuple[str, ...] = ("",), **extra: Any) -> dict[str, Any]:
    return {"apiGroups": list(groups), "resources": resources, "verbs": verbs, **extra}


@pytest.mark.parametrize(("rules", "namespace", "why"), [
    ([rule(["*"], ["*"], ("*",))], "team-a", "can read Secret team-a/git-creds"),
    ([rule(["secrets"], ["list"])], "team-a", "can read Secret team-a/git-creds"),
    ([rule(["secrets"], ["patch"], resourceNames=["git-creds"])], "team-a", "can read Secret team-a/git-creds"),
    ([rule(["secrets"], ["update"])], "team-a", "can read Secret team-a/git-creds"),
    ([rule(["secrets"], ["get"])], "", f"can read Secret handoff-system/{GIT_CREDENTIALS_SECRET}"),
    ([rule(["pods"], ["create"])], "team-a", "can write pods in namespace team-a"),
    ([rule(["deployments"], ["create"], ("apps",))], "team-a", "can write deployments"),
    ([rule(["deployments"], ["patch"], ("apps",), resourceNames=["web"])], "team-a", "can write deployments"),
    ([rule(["cronjobs"], ["*"], ("batch",))], "", "can write cronjobs in every namespace"),
    ([rule(["pods/ephemeralcontainers"], ["patch"])], "", "ephemeral containers"),
    ([rule(["signers"], ["approve"], ("certificates.k8s.io",))], "", "approve certificates"),
    ([rule(["mutatingwebhookconfigurations"], ["create"], ("admissionregistration.k8s.io",))], "",
     "write mutatingwebhookconfigurations"),
    ([rule(["roles", "rolebindings"], ["create", "escalate", "bind"], ("rbac.authorization.k8s.io",))], "team-a",
     "escalate or bind roles"),
    ([rule(["serviceaccounts/token"], ["create"])], "", "create serviceaccounts/token"),
    ([rule(["pods/exec"], ["create"])], "", "use pods/exec"),
    ([rule(["*/portforward"], ["create"])], "handoff-system", "use pods/portforward"),
    ([rule(["groups"], ["impersonate"])], "", "impersonate groups"),
    ([rule(["groups"], ["impersonate"], resourceNames=["system:masters"])], "", "impersonate groups"),
    ([rule(["serviceaccounts/token"], ["create"], resourceNames=["handoff-reconciler"])], "", "token"),
    ([rule(["clusterroles"], ["bind"], ("rbac.authorization.k8s.io",), resourceNames=["cluster-admin"])], "",
     "escalate or bind cluster roles"),
    ([rule(["nodes/proxy"], ["get"])], "", "use nodes/proxy"),
])
def test_rules_reaching_the_credentials_are_named(rules: list[Any], namespace: str, why: str) -> None:
    assert why in why_rules_reach(rules, GUARDED, namespace)


@pytest.mark.parametrize(("rules", "namespace"), [
    ([rule(["configmaps", "pods"], ["get", "list"])], "team-a"),       # reads no Secrets
    ([rule(["secrets"], ["get"], resourceNames=["tls"])], "team-a"),    # another Secret by name
    ([rule(["*"], ["*"], ("*",))], "team-b"),                           # a namespace holding no credentials
    ([rule(["Secrets"], ["GET"])], "team-a"),                           # RBAC is case-sensitive: nothing
    ([rule(["secrets"], ["create", "delete"])], "team-a"),             # writes without an answer of it
    ([rule(["pods"], ["create"], resourceNames=["x"])], "team-a"),      # create by name grants no create
    ([rule(["pods/log"], ["get"])], ""),
    ([rule(["pods/*"], ["get", "create"])], ""),                       # no wildcard to RBAC: grants nothing
])
def test_other_rules_are_left_alone(rules: list[Any], namespace: str) -> None:
    assert why_rules_reach(rules, GUARDED, namespace) == ""

"""What RBAC a revision writes would let its subjects do where git credentials are.

A pod may not mount the reconciler's credentials or a Source's (:func:`guard.why_borrowing`), so neither may
a binding hand them over through the API. The guarded places: each Source's git-credentials Secret and the
reconciler's own (:data:`manifests.GIT_CREDENTIALS_SECRET`), and the namespaces they are in, the
reconciler's included. A role reaches them when, bound there (a RoleBinding in that namespace, or any
ClusterRoleBinding), it can

- read one of those Secrets: ``get``, ``list``, ``watch``, and ``patch`` or ``update`` too, whose answer is
  the whole object;
- or do what Kubernetes' RBAC good-practices page counts as escalation, each worth the Secrets themselves:
  create, patch or update pods or workloads (a pod mounting them; an image of the repo's on the reconciler's
  Pod), ephemeral containers, ``escalate`` or ``bind`` roles, ``impersonate``, create
  ``serviceaccounts/token``, ``pods/exec``, ``pods/attach``, ``pods/portforward``, ``nodes/proxy``, approve
  certificate requests, write admission webhooks or policies.

What is judged (:func:`reaching`): every binding of the revision, by its role's rules (the revision's, else
the live one's; an aggregated ClusterRole by everything its selectors pick, live and in the revision); a
binding of a role whose rules cannot be known (it does not exist yet) where it would reach them; and every
Role or ClusterRole of the revision against the live bindings of it (changing a role changes what its
existing bindings grant) and, when an aggregation rule of a ClusterRole the revision does not write picks
it (``aggregate-to-view``), as if bound cluster-wide: it joins a role bound anywhere, now or later."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from handoff.kube.client import KubeClient, KubeError
from handoff.policy.selectors import labels_of, selector_matches
from handoff.reconciler.manifests import GIT_CREDENTIALS_SECRET
from handoff.reconciler.objects import group_of, ref_of
from handoff.report.model import ObjectRef

_RBAC = "rbac.authorization.k8s.io"
_RBAC_V1 = f"{_RBAC}/v1"
_BINDINGS = ("RoleBinding", "ClusterRoleBinding")
_ROLES = ("Role", "ClusterRole")
# verbs whose answer carries the object: reading it
_READ_VERBS = frozenset({"get", "list", "watch", "patch", "update"})
_WORKLOADS = (("", "pods"), ("", "replicationcontrollers"), ("", "podtemplates"), ("apps", "deployments"),
              ("apps", "statefulsets"), ("apps", "daemonsets"), ("apps", "replicasets"), ("batch", "jobs"),
              ("batch", "cronjobs"))
_CREATE = frozenset({"create"})
_WRITE = frozenset({"create", "patch", "update"})
_CHANGE = frozenset({"patch", "update"})
_ADMISSION = ("mutatingwebhookconfigurations", "validatingwebhookconfigurations",
              "mutatingadmissionpolicies", "mutatingadmissionpolicybindings",
              "validatingadmissionpolicies", "validatingadmissionpolicybindings")
# (verbs, group, resource, what it gives), after the RBAC good-practices page's privilege-escalation list:
# a pod or workload written (a volume of the Secret, an image of the repo's on the reconciler's Pod)
_ESCALATIONS = (
    *((_WRITE, g, r, f"write {r}") for g, r in _WORKLOADS),
    (_CHANGE, "", "pods/ephemeralcontainers", "add ephemeral containers"),
    (frozenset({"escalate", "bind"}), _RBAC, "roles", "escalate or bind roles"),
    (frozenset({"escalate", "bind"}), _RBAC, "clusterroles", "escalate or bind cluster roles"),
    *((frozenset({"impersonate"}), "", r, f"impersonate {r}")
      for r in ("users", "groups", "serviceaccounts")),
    (_CREATE, "", "serviceaccounts/token", "create serviceaccounts/token"),
    *((frozenset({"create", "get"}), "", f"pods/{s}", f"use pods/{s}")
      for s in ("exec", "attach", "portforward")),
    (frozenset({"get", "create"}), "", "nodes/proxy", "use nodes/proxy"),
    (_CHANGE, "certificates.k8s.io", "certificatesigningrequests/approval", "approve certificate requests"),
    (frozenset({"approve"}), "certificates.k8s.io", "signers", "approve certificates of a signer"),
    *((_WRITE, "admissionregistration.k8s.io", r, f"write {r}") for r in _ADMISSION),
)


@dataclass(frozen=True)
class Guarded:
    """The Secrets holding git credentials (namespace, name) and the namespaces where escalation counts."""

    secrets: frozenset[tuple[str, str]]
    namespaces: frozenset[str]

    @classmethod
    def of(cls, source_secrets: Iterable[tuple[str, str]], control_namespace: str) -> Guarded:
        secrets = frozenset({*source_secrets, (control_namespace, GIT_CREDENTIALS_SECRET)})
        return cls(secrets, frozenset({ns for ns, _ in secrets} | {control_namespace}))


def _listed(rule: Mapping[str, Any], key: str) -> frozenset[str]:
    value = rule.get(key) or []
    return frozenset(str(v) for v in value) if isinstance(value, list) else frozenset()


def _allows(rule: Mapping[str, Any], verbs: frozenset[str], group: str, resource: str) -> bool:
    """Whether ``rule`` grants one of ``verbs`` on ``group``/``resource`` (a subresource as ``pods/exec``),
    with RBAC's wildcards: ``*`` verbs, groups and resources, and ``*/exec`` (``pods/*`` is no wildcard)."""
    sub = resource.partition("/")[2]
    spellings = {"*", resource} | ({f"*/{sub}"} if sub else set())
    rule_verbs = _listed(rule, "verbs")
    return bool(("*" in rule_verbs or verbs & rule_verbs) and {"*", group} & _listed(rule, "apiGroups")
                and spellings & _listed(rule, "resources"))


def _by_name_create_only(rule: Mapping[str, Any], verbs: frozenset[str], group: str, resource: str) -> bool:
    return bool(_listed(rule, "resourceNames")) and "/" not in resource and \
        not _allows(rule, verbs - _CREATE, group, resource)


def _reads_secret(rule: Mapping[str, Any], name: str) -> bool:
    names = _listed(rule, "resourceNames")
    return _allows(rule, _READ_VERBS, "", "secrets") and (not names or name in names)


def why_rules_reach(rules: Sequence[Any], guarded: Guarded, namespace: str) -> str:
    """What ``rules``, bound in ``namespace`` ("": cluster-wide), can do to the guarded places ("" when
    nothing): read a credentials Secret there, or escalate there."""
    if namespace and namespace not in guarded.namespaces:
        return ""
    valid = [r for r in rules if isinstance(r, Mapping)]
    for ns, secret in sorted(guarded.secrets):
        if (not namespace or ns == namespace) and any(_reads_secret(r, secret) for r in valid):
            return f"can read Secret {ns}/{secret} (git credentials)"
    where = f"in namespace {namespace}" if namespace else "in every namespace"
    for verbs, group, resource, what in _ESCALATIONS:
        # RBAC never grants a create of a new object by resourceNames; a patch, a subresource, bind, yes
        if any(_allows(r, verbs, group, resource) and not _by_name_create_only(r, verbs, group, resource)
               for r in valid):
            return f"can {what} {where}, where git credentials are"
    return ""


class Roles:
    """The rules of the Roles and ClusterRoles a revision names: the revision's own, else the live ones;
    an aggregated ClusterRole's are everything its selectors pick (the revision's and the cluster's)."""

    def __init__(self, objects: Iterable[Mapping[str, Any]], client: KubeClient) -> None:
        self._given = {(ref.kind, ref.name, ref.namespace): o for o in objects
                       if (ref := ref_of(o)).kind in _ROLES and group_of(ref) == _RBAC}
        self._client = client
        self._cluster_roles: list[Mapping[str, Any]] | None = None

    def _role(self, kind: str, name: str, namespace: str) -> Mapping[str, Any] | None:
        if (kind, name, namespace) in self._given:
            return self._given[(kind, name, namespace)]
        try:
            return self._client.get(_RBAC_V1, kind, name, namespace)
        except KubeError:
            return None

    def _all_cluster_roles(self) -> list[Mapping[str, Any]]:
        """Every ClusterRole, the revision's in place of the live one of the same name."""
        if self._cluster_roles is None:
            live = [o for o in self._client.list(_RBAC_V1, "ClusterRole")
                    if ("ClusterRole", ref_of(o).name, "") not in self._given]
            written = (o for (kind, _, _), o in self._given.items() if kind == "ClusterRole")
            self._cluster_roles = [*live, *written]
        return self._cluster_roles

    def rules(self, kind: str, name: str, namespace: str) -> list[Any] | None:
        """None when the role, or what it aggregates, cannot be read."""
        role = self._role(kind, name, namespace)
        if role is None:
            return None
        selectors = [s for s in ((role.get("aggregationRule") or {}).get("clusterRoleSelectors") or ())
                     if isinstance(s, Mapping)] if kind == "ClusterRole" else []
        if not selectors:
            return list(role.get("rules") or [])
        try:
            picked = [o for o in self._all_cluster_roles() if ref_of(o).name != name
                      and any(selector_matches(s, labels_of(o)) for s in selectors)]
        except KubeError:
            return None
        return [*(role.get("rules") or []), *(r for o in picked for r in o.get("rules") or [])]

    def aggregators(self, role: Mapping[str, Any]) -> list[Mapping[str, Any]] | None:
        """The other ClusterRoles whose aggregation rule picks ClusterRole ``role``; None when the cluster's
        cannot be listed."""
        labels = labels_of(role)
        if not labels:
            return []
        try:
            every = self._all_cluster_roles()
        except KubeError:
            return None
        return [o for o in every if ref_of(o).name != ref_of(role).name and any(
            isinstance(s, Mapping) and s and selector_matches(s, labels)
            for s in (o.get("aggregationRule") or {}).get("clusterRoleSelectors") or ())]

    def writes(self, kind: str, name: str, namespace: str = "") -> bool:
        return (kind, name, namespace) in self._given

    def bound_in(self, kind: str, name: str, namespace: str, guarded: Guarded) -> list[str]:
        """Where the live bindings of a role reach guarded places: "" for a ClusterRoleBinding, the
        namespace of a RoleBinding in a guarded one; [""] when they cannot be listed."""
        try:
            scopes = [""] * (kind == "ClusterRole" and any(
                _names(b, kind, name) for b in self._client.list(_RBAC_V1, "ClusterRoleBinding")))
            where = guarded.namespaces if kind == "ClusterRole" else {namespace} & guarded.namespaces
            for ns in sorted(where):
                bindings = self._client.list(_RBAC_V1, "RoleBinding", namespace=ns)
                if any(_names(b, kind, name) for b in bindings):
                    scopes.append(ns)
        except KubeError:
            return [""]
        return scopes


def _names(binding: Mapping[str, Any], kind: str, name: str) -> bool:
    role = binding.get("roleRef") or {}
    return isinstance(role, Mapping) and role.get("kind") == kind and role.get("name") == name


def _why_binding(obj: Mapping[str, Any], guarded: Guarded, roles: Roles) -> str:
    namespaced = obj.get("kind") == "RoleBinding"
    namespace = str((obj.get("metadata") or {}).get("namespace") or "") if namespaced else ""
    role = obj.get("roleRef") or {}
    if (namespace and namespace not in guarded.namespaces) or not isinstance(role, Mapping):
        return ""
    kind, name = str(role.get("kind")), str(role.get("name"))
    rules = roles.rules(kind, name, namespace if kind == "Role" else "")
    if rules is None:
        where = f"in namespace {namespace}" if namespace else "cluster-wide"
        return (f"binds {kind} {name}, whose rules cannot be read (it does not exist yet, or what it "
                f"aggregates cannot be listed), {where}, where git credentials are")
    why = why_rules_reach(rules, guarded, namespace)
    return f"binds {kind} {name}, which {why}, to its subjects" if why else ""


def _why_aggregated(role: Mapping[str, Any], guarded: Guarded, roles: Roles) -> str:
    """How ClusterRole ``role`` reaches the guarded places as a part of the ClusterRoles that aggregate it:
    one the revision does not write is taken as bound everywhere (it is, or will be); one it writes, by
    the live bindings of it."""
    aggregators = roles.aggregators(role)
    own = list(role.get("rules") or [])
    if aggregators is None:
        why = why_rules_reach(own, guarded, "")
        return f"{why}, and what may aggregate it cannot be listed" if why else ""
    for other in aggregators:
        name = ref_of(other).name
        if not roles.writes("ClusterRole", name):
            if why := why_rules_reach(own, guarded, ""):
                return f"is aggregated into ClusterRole {name}, which may be bound anywhere, and {why}"
            continue
        rules = roles.rules("ClusterRole", name, "") or own
        for scope in roles.bound_in("ClusterRole", name, "", guarded):
            if why := why_rules_reach(rules, guarded, scope):
                return f"is aggregated into ClusterRole {name}, bound already, which then {why}"
    return ""


def _why_role(role: Mapping[str, Any], guarded: Guarded, roles: Roles) -> str:
    ref = ref_of(role)
    own = list(role.get("rules") or [])
    if ref.kind == "ClusterRole" and (why := _why_aggregated(role, guarded, roles)):
        return why
    rules = roles.rules(ref.kind, ref.name, ref.namespace)
    if not why_rules_reach(rules or own, guarded, ref.namespace):
        return ""  # nowhere to reach: no binding is worth listing
    for scope in roles.bound_in(ref.kind, ref.name, ref.namespace, guarded):
        if why := why_rules_reach(rules or own, guarded, scope):
            return f"is bound {f'in namespace {scope}' if scope else 'cluster-wide'} already, and {why}"
    return ""


def reaching(objects: Iterable[Mapping[str, Any]], guarded: Guarded,
             client: KubeClient) -> list[tuple[ObjectRef, str]]:
    """Each binding or role of ``objects`` that would reach the guarded places, with how."""
    objects = [o for o in objects if group_of(ref_of(o)) == _RBAC and o.get("kind") in (*_BINDINGS, *_ROLES)]
    if not objects:
        return []
    roles = Roles(objects, client)
    out = []
    for obj in objects:
        judge = _why_binding if obj.get("kind") in _BINDINGS else _why_role
        why = judge(obj, guarded, roles)
        if why:
            out.append((ref_of(obj), why))
    return out

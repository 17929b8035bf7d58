"""The reconciler's own objects, which no source may apply, patch or prune: its Lease, inventory and status
ConfigMaps, config, credentials, Deployment, ServiceAccount, RBAC and metrics Service in its namespace, its
Namespace, every object its install manifests create (its ``sources.handoff.dev`` CRD and cluster RBAC
included, read from :func:`manifests.manifests` itself), every ``Source`` object, and the Secrets a served
source's spec reads (a Source object's ``secretRef`` and ``verify.secretRef``). Repo content that names one
of them is refused before anything is written, so a commit can neither take leadership, freeze its own
delivery (overwrite the credentials that fetch it) nor widen the reconciler's rights.

Nor may a source obtain or use the reconciler's identity (:func:`borrowing_identity`): run a Pod as its
ServiceAccount or mount its Secrets, mint a token for that ServiceAccount (a ``service-account-token``
Secret or a TokenRequest), or bind the reconciler's Roles to another subject or new rights to the
reconciler. Any of these would hold the reconciler's rights, more than any grant.

Nor may it intercept the reconciler's own writes (:func:`why_intercepting`): a webhook or admission policy
that matches its namespace or its ``Source`` objects could deny the writes of its journal, inventory,
status and Lease, so that even the revert commit removing it never applies (delivery frozen by the repo).
One is applied only when the operator's grant names its kind (``clusterKinds``, not a glob) and every match
block of it excludes the reconciler's namespace by name and leaves ``Source`` objects alone.

Nor may its admission objects reach beyond its grant (a webhook denying or rewriting another source's writes):
unless the grant covers every namespace, each match block must be confined to granted namespaces by name
(a ``namespaceSelector`` with ``kubernetes.io/metadata.name`` ``In`` granted names) and pick namespaced
resources only (``scope: Namespaced``, or only well-known namespaced built-in resources), since a
namespaceSelector never skips a cluster-scoped object.

Nor may its mutating admission objects rewrite pods (:func:`why_mutating_pods`): the floor and the identity
guard judge the pods a revision writes, and a MutatingWebhookConfiguration or MutatingAdmissionPolicy on
pods or on anything that carries a pod spec (a built-in workload, a custom resource, a wildcard) changes them
after that, inside the grant too (mount a Source's git credentials, make a container privileged). One is
applied only when the operator's grant says ``allowMutatingPods: true``, which waives both checks for that
source's pods; one whose rules pick only other resources (ConfigMaps, say) needs no such grant. One that
picks what the guards judge by content (roles and bindings, Secrets, ServiceAccounts, Namespaces) is refused
whatever the grant (:func:`why_mutating_identity`)."""

from __future__ import annotations

import fnmatch
from collections.abc import Callable, Collection, Iterable, Mapping
from typing import Any

from handoff.policy.paths import pod_specs
from handoff.reconciler.config import Settings, Source
from handoff.reconciler.inventory import INVENTORY_PREFIX
from handoff.reconciler.manifests import APP, GIT_CREDENTIALS_SECRET, impersonation_objects, manifests
from handoff.reconciler.objects import group_of, ref_of
from handoff.reconciler.sourcecrd import GROUP as SOURCE_GROUP
from handoff.reconciler.sourcecrd import KIND as SOURCE_KIND
from handoff.reconciler.status import STATUS_PREFIX
from handoff.report.model import ObjectRef

_OWN_PREFIXES = (INVENTORY_PREFIX, STATUS_PREFIX, f"{APP}-")
_CLUSTER_RBAC = frozenset({"ClusterRole", "ClusterRoleBinding"})
_RBAC = "rbac.authorization.k8s.io"
TOKEN_SECRET_TYPE = "kubernetes.io/service-account-token"  # noqa: S105 - a Secret type, not a password
TOKEN_SA_ANNOTATION = "kubernetes.io/service-account.name"  # noqa: S105 - an annotation key
_ADMISSION = "admissionregistration.k8s.io"
_WEBHOOK_KINDS = frozenset({"ValidatingWebhookConfiguration", "MutatingWebhookConfiguration"})
_POLICY_KINDS = frozenset({"ValidatingAdmissionPolicy", "MutatingAdmissionPolicy"})
_BINDING_KINDS = frozenset({"ValidatingAdmissionPolicyBinding", "MutatingAdmissionPolicyBinding"})
_NAME_LABEL = "kubernetes.io/metadata.name"  # set by the API server to each Namespace's name
# built-in namespaced resources by (group, plural): a rule naming only these, whatever its ``scope``, picks
# no cluster-scoped object; any other resource needs ``scope: Namespaced`` under a namespace-confined grant
_NAMESPACED_BUILTINS = frozenset({
    *(("", r) for r in ("configmaps", "secrets", "pods", "services", "serviceaccounts", "endpoints",
                        "persistentvolumeclaims", "replicationcontrollers", "resourcequotas", "limitranges",
                        "podtemplates", "events")),
    *(("apps", r) for r in ("deployments", "statefulsets", "daemonsets", "replicasets",
                            "controllerrevisions")),
    *(("batch", r) for r in ("jobs", "cronjobs")),
    ("autoscaling", "horizontalpodautoscalers"), ("policy", "poddisruptionbudgets"),
    ("networking.k8s.io", "ingresses"), ("networking.k8s.io", "networkpolicies"),
    ("coordination.k8s.io", "leases"), ("discovery.k8s.io", "endpointslices"), ("events.k8s.io", "events"),
    ("rbac.authorization.k8s.io", "roles"), ("rbac.authorization.k8s.io", "rolebindings"),
})
# what carries a pod spec among the built-in resources, by (group, plural): the floor and the identity guard
# judge these (a ControllerRevision holds a StatefulSet's or DaemonSet's pod template for a roll-back)
_POD_BEARING = frozenset({
    *(("", r) for r in ("pods", "podtemplates", "replicationcontrollers")),
    *(("apps", r) for r in ("deployments", "statefulsets", "daemonsets", "replicasets",
                            "controllerrevisions")),
    *(("batch", r) for r in ("jobs", "cronjobs")),
})
# what the guards judge by content, by (group, plural): a binding's roleRef, a role's rules (rbacreach), a
# Secret's type, a ServiceAccount, a Namespace's Pod Security labels; a mutating object rewriting these is
# never waived
_IDENTITY_BEARING = frozenset({
    *((_RBAC, r) for r in ("rolebindings", "clusterrolebindings", "roles", "clusterroles")),
    ("", "secrets"), ("", "serviceaccounts"), ("", "namespaces"),
})
# the built-in API groups: any other group is a custom resource's, whose embedded pod specs the floor reads
_BUILTIN_GROUPS = frozenset({
    "", "apps", "batch", "autoscaling", "policy", "admissionregistration.k8s.io", "apiextensions.k8s.io",
    "apiregistration.k8s.io", "authentication.k8s.io", "authorization.k8s.io", "certificates.k8s.io",
    "coordination.k8s.io", "discovery.k8s.io", "events.k8s.io", "flowcontrol.apiserver.k8s.io",
    "internal.apiserver.k8s.io", "networking.k8s.io", "node.k8s.io", "rbac.authorization.k8s.io",
    "resource.k8s.io", "scheduling.k8s.io", "storage.k8s.io", "storagemigration.k8s.io",
})
NamespaceCovered = Callable[[str], bool]  # whether the source's grant admits objects in a namespace


def _install_names(objects: Iterable[Mapping[str, Any]], kinds: Iterable[str]) -> frozenset[tuple[str, str]]:
    wanted = set(kinds)
    return frozenset((str(o["kind"]), str(o["metadata"]["name"])) for o in objects if o["kind"] in wanted)


# every Role and ClusterRole an install creates (either mode, with impersonation), read from the manifests
# themselves; the namespace and the impersonated ServiceAccount only place them, names do not depend on them
_INSTALL_ROLES = _install_names(
    (*manifests(cluster_wide=True, impersonate=("ns/sa",)), *manifests(cluster_wide=False)),
    ("Role", "ClusterRole"))
# the install objects it puts in other namespaces (impersonation Roles and RoleBindings): own anywhere
_ELSEWHERE = _install_names((o for o in impersonation_objects("self", ("other/sa",))
                             if o["metadata"].get("namespace") == "other"), ("Role", "RoleBinding"))


def _identities(objects: Iterable[Mapping[str, Any]], *, namespaced: bool) -> frozenset[tuple[str, str, str]]:
    return frozenset((group_of(ref), ref.kind, ref.name) for ref in map(ref_of, objects)
                     if bool(ref.namespace) == namespaced and ref.kind != "Namespace")


# every object an install creates, in either mode, by (group, kind, name): the cluster-scoped ones (the
# Source CRD, ClusterRoles and their bindings) anywhere, the namespaced ones in the reconciler's namespace
# (their names do not depend on it); its Namespace is the configured one (``settings.namespace``)
_INSTALL = (*manifests(cluster_wide=True, impersonate=("ns/sa",)), *manifests(cluster_wide=False))
_INSTALL_CLUSTER_SCOPED = _identities(_INSTALL, namespaced=False)
_INSTALL_NAMESPACED = _identities((o for o in _INSTALL if o["metadata"].get("namespace") != "ns"),
                                  namespaced=True)


def configuration_secrets(sources: Iterable[Source]) -> frozenset[tuple[str, str]]:
    """``(namespace, name)`` of every Secret a source's spec reads (a Source object's git credentials
    and verification keys): the reconciler's own, so no revision can change how a source is fetched."""
    return frozenset((namespace, name) for s in sources
                     for namespace, _, name in (ref.partition("/") for ref in s.secrets))


def own_object(ref: ObjectRef, settings: Settings,
               secrets: Collection[tuple[str, str]] = frozenset()) -> bool:
    """True when ``ref`` is one of the reconciler's own objects; ``secrets``: the Secrets its served
    sources read (:func:`configuration_secrets`)."""
    group = group_of(ref)
    if group == SOURCE_GROUP and ref.kind == SOURCE_KIND:
        return True
    if ref.kind == "Namespace" and not ref.namespace:
        return ref.name == settings.namespace
    if not ref.namespace:
        return (group, ref.kind, ref.name) in _INSTALL_CLUSTER_SCOPED or (
            ref.kind in _CLUSTER_RBAC and (ref.name == APP or ref.name.startswith(f"{APP}-")))
    if (ref.kind, ref.name) in _ELSEWHERE and group == _RBAC:
        return True
    if ref.kind == "Secret" and group == "" and (ref.namespace, ref.name) in secrets:
        return True
    if ref.namespace != settings.namespace:
        return False
    if ref.kind == "Lease":
        return ref.name == settings.lease_name
    return (group, ref.kind, ref.name) in _INSTALL_NAMESPACED or ref.name in (APP, GIT_CREDENTIALS_SECRET) \
        or ref.name.startswith(_OWN_PREFIXES)


def own_objects(refs: Iterable[ObjectRef], settings: Settings,
                secrets: Collection[tuple[str, str]] = frozenset()) -> list[ObjectRef]:
    return [r for r in refs if own_object(r, settings, secrets)]


def _pod_specs(obj: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """The pod specs an object runs (:func:`handoff.policy.paths.pod_specs`, the floor's walker)."""
    return [spec for _, spec in pod_specs(obj)]


def _namespace(obj: Mapping[str, Any]) -> str:
    return str((obj.get("metadata") or {}).get("namespace") or "")


def runs_as_reconciler(obj: Mapping[str, Any], settings: Settings) -> bool:
    """True when ``obj`` runs pods as the reconciler's ServiceAccount (a ServiceAccount is namespaced, so
    only pods in the reconciler's namespace can; ``serviceAccount`` is the deprecated spelling)."""
    if _namespace(obj) != settings.namespace:
        return False
    return any(spec.get("serviceAccountName") == APP or spec.get("serviceAccount") == APP
               for spec in _pod_specs(obj))


def _secrets_used(spec: Mapping[str, Any]) -> set[str]:
    """The Secrets a pod spec reads: volumes (projected too), env and envFrom of every container."""
    names: set[str] = set()
    for volume in spec.get("volumes") or ():
        if not isinstance(volume, Mapping):
            continue
        names.add(str((volume.get("secret") or {}).get("secretName") or ""))
        for source in (volume.get("projected") or {}).get("sources") or ():
            names.add(str(((source or {}).get("secret") or {}).get("name") or ""))
    for key in ("containers", "initContainers", "ephemeralContainers"):
        for container in spec.get(key) or ():
            if not isinstance(container, Mapping):
                continue
            for env in container.get("env") or ():
                ref = ((env or {}).get("valueFrom") or {}).get("secretKeyRef") or {}
                names.add(str(ref.get("name") or ""))
            for env_from in container.get("envFrom") or ():
                names.add(str(((env_from or {}).get("secretRef") or {}).get("name") or ""))
    names.discard("")
    return names


def token_for(obj: Mapping[str, Any]) -> tuple[str, str] | None:
    """``(namespace, ServiceAccount)`` when ``obj`` mints a token: a ``service-account-token`` Secret
    (Kubernetes' "long-lived API token", filled in by the token controller for the ServiceAccount its
    ``kubernetes.io/service-account.name`` annotation names) or a TokenRequest (named as its
    ServiceAccount)."""
    meta = obj.get("metadata") or {}
    if obj.get("kind") == "Secret" and group_of(ref_of(obj)) == "" and obj.get("type") == TOKEN_SECRET_TYPE:
        return _namespace(obj), str((meta.get("annotations") or {}).get(TOKEN_SA_ANNOTATION) or "")
    if obj.get("kind") == "TokenRequest":
        return _namespace(obj), str(meta.get("name") or "")
    return None


def _subjects_reconciler(subject: Mapping[str, Any], binding_namespace: str, settings: Settings) -> bool:
    """True when an RBAC subject includes the reconciler's ServiceAccount: itself, its user name, or a group
    every ServiceAccount of its namespace (or every authenticated user) is in."""
    kind, name = subject.get("kind"), str(subject.get("name") or "")
    ns = settings.namespace
    if kind == "ServiceAccount":
        return name == APP and str(subject.get("namespace") or binding_namespace) == ns
    if kind == "User":
        return name == f"system:serviceaccount:{ns}:{APP}"
    if kind == "Group":
        return name in ("system:authenticated", "system:serviceaccounts", f"system:serviceaccounts:{ns}")
    return False


def _binding_why(obj: Mapping[str, Any], settings: Settings) -> str:
    if obj.get("kind") not in ("RoleBinding", "ClusterRoleBinding") or group_of(ref_of(obj)) != _RBAC:
        return ""
    role = obj.get("roleRef") or {}
    if (str(role.get("kind")), str(role.get("name"))) in _INSTALL_ROLES:
        return f"binds the reconciler's own {role.get('kind')} {role.get('name')}"
    if any(isinstance(s, Mapping) and _subjects_reconciler(s, _namespace(obj), settings)
           for s in obj.get("subjects") or ()):
        return "binds a role to the reconciler's own ServiceAccount"
    return ""


def is_admission(ref: ObjectRef) -> bool:
    """Whether ``ref`` is a webhook configuration, an admission policy or a binding of one."""
    return group_of(ref) == _ADMISSION and ref.kind in _WEBHOOK_KINDS | _POLICY_KINDS | _BINDING_KINDS


def _match_blocks(obj: Mapping[str, Any]) -> list[tuple[str, Mapping[str, Any], list[Any]]]:
    """``(where, namespaceSelector, rules)`` of each part of an admission object that picks requests:
    every webhook of a webhook configuration, a policy's ``matchConstraints``, a binding's
    ``matchResources`` (absent: it picks what its policy does, so it excludes nothing)."""
    kind = obj.get("kind")
    if kind in _WEBHOOK_KINDS:
        return [(f"webhook {w.get('name')} (webhooks[{i}])", w.get("namespaceSelector") or {},
                 list(w.get("rules") or ())) for i, w in enumerate(obj.get("webhooks") or ())
                if isinstance(w, Mapping)]
    key = "matchConstraints" if kind in _POLICY_KINDS else "matchResources"
    block = (obj.get("spec") or {}).get(key) or {}
    return [(f"spec.{key}", block.get("namespaceSelector") or {}, list(block.get("resourceRules") or ()))]


def _confined_to(selector: Mapping[str, Any]) -> frozenset[str] | None:
    """The namespaces a label selector can match by their name label, None when it names no such set (it
    could match any namespace)."""
    sets: list[frozenset[str]] = []
    labels = selector.get("matchLabels") or {}
    if _NAME_LABEL in labels:
        sets.append(frozenset({str(labels[_NAME_LABEL])}))
    for expression in selector.get("matchExpressions") or ():
        if isinstance(expression, Mapping) and expression.get("key") == _NAME_LABEL \
                and expression.get("operator") == "In":
            sets.append(frozenset(str(v) for v in expression.get("values") or ()))
    return frozenset.intersection(*sets) if sets else None


def _cluster_scoped_reach(rules: Iterable[Any]) -> str:
    """The first resource a rule could pick cluster-scoped objects of ("" when none): a rule without
    ``scope: Namespaced`` naming a resource that is not a well-known namespaced built-in."""
    for rule in rules:
        if not isinstance(rule, Mapping) or rule.get("scope") == "Namespaced":
            continue
        for group in rule.get("apiGroups") or ("*",):
            for resource in rule.get("resources") or ("*",):
                if (str(group), str(resource).split("/")[0]) not in _NAMESPACED_BUILTINS:
                    return f"{group}/{resource}" if group else str(resource)
    return ""


def _beyond_grant(where: str, selector: Mapping[str, Any], rules: list[Any],
                  covered: NamespaceCovered) -> str:
    """How a match block reaches beyond a namespace-confined grant ("" when it does not)."""
    confined = _confined_to(selector)
    if confined is None:
        return (f"could act on writes outside its grant: its {where} namespaceSelector could match any "
                f"namespace (needs {_NAME_LABEL} In [granted namespaces], or a cluster-wide grant)")
    outside = sorted(n for n in confined if not covered(n))
    if outside:
        return (f"could act on writes outside its grant: its {where} namespaceSelector matches namespace "
                f"{outside[0]}, which the grant does not cover")
    # a binding without resourceRules picks what the policy it names does, maybe the operator's own
    unbounded = not rules and where == "spec.matchResources"
    resource = "every resource of the policy it binds (list resourceRules)" if unbounded \
        else _cluster_scoped_reach(rules)
    if resource:
        return (f"could act on writes outside its grant: its {where} rules pick {resource}, which may be "
                "cluster-scoped (a namespaceSelector never skips those; set scope: Namespaced)")
    return ""


def _excludes(selector: Mapping[str, Any], namespace: str) -> bool:
    """Whether a label selector can never match Namespace ``namespace`` by its name label."""
    labels = selector.get("matchLabels") or {}
    if _NAME_LABEL in labels and labels[_NAME_LABEL] != namespace:
        return True
    for expression in selector.get("matchExpressions") or ():
        if not isinstance(expression, Mapping) or expression.get("key") != _NAME_LABEL:
            continue
        operator, values = expression.get("operator"), expression.get("values") or ()
        if (operator == "NotIn" and namespace in values) or (operator == "In" and namespace not in values) \
                or operator == "DoesNotExist":
            return True
    return False


def _matches_sources(rules: Iterable[Any]) -> bool:
    """Whether admission rules could pick requests on ``Source`` objects (the reconciler writes their
    status in their own namespaces, which a namespace exclusion does not cover)."""
    plural = f"{SOURCE_KIND.lower()}s"
    for rule in rules:
        if not isinstance(rule, Mapping):
            continue
        groups, resources = rule.get("apiGroups") or (), rule.get("resources") or ()
        if ("*" in groups or SOURCE_GROUP in groups) and any(
                r in ("*", "*/*", "*/status") or r.split("/")[0] == plural for r in resources):
            return True
    return False


def _picks_pods(rule: Mapping[str, Any]) -> str:
    """The first ``group/resource`` of an admission rule that can carry a pod spec ("" when none): a
    pod-bearing built-in (any of its subresources too), a wildcard group or resource, or a custom resource."""
    for group in rule.get("apiGroups") or ("*",):
        for resource in rule.get("resources") or ("*",):
            plural = str(resource).split("/")[0]
            if "*" in (group, plural) or (group, plural) in _POD_BEARING or group not in _BUILTIN_GROUPS:
                return f"{group}/{resource}" if group else str(resource)
    return ""


def _picks_identity(rule: Mapping[str, Any]) -> str:
    """The first ``group/resource`` of an admission rule that can pick one of :data:`_IDENTITY_BEARING`,
    a ``*`` group or resource included ("" when none)."""
    for group in rule.get("apiGroups") or ("*",):
        for resource in rule.get("resources") or ("*",):
            plural = str(resource).split("/")[0]
            if any(group in ("*", g) and plural in ("*", p) for g, p in _IDENTITY_BEARING):
                return f"{group}/{resource}" if group else str(resource)
    return ""


def why_mutating_identity(obj: Mapping[str, Any], cluster_kinds: Collection[str],
                          policies: Collection[str] = ()) -> str:
    """How mutating admission object ``obj`` could rewrite what the identity guard judged (a binding to
    the reconciler's roles, a token Secret, Pod Security labels) after it judged it; no grant waives it."""
    if group_of(ref_of(obj)) != _ADMISSION or not _granted_by_name(str(obj.get("kind")), cluster_kinds):
        return ""
    for key, rule in _mutation_rules(obj, policies):
        picked = _picks_identity(rule) if isinstance(rule, Mapping) else ""
        if picked:
            return (f"could rewrite what the identity guard judged after it judged it: its {key} picks "
                    f"{picked}")
    return ""


def _mutation_rules(obj: Mapping[str, Any], policies: Collection[str] = ()) -> list[tuple[str, Any]]:
    """``(key, rule)`` of each rule of a mutating admission object that picks what it rewrites (a
    policy's ``excludeResourceRules`` only narrow them). A binding of a policy among ``policies`` (those the
    revision holds, judged themselves) rewrites nothing its policy would not; a binding of another policy
    (one the cluster already has) puts that policy in force with the repo's parameters: it picks what its
    own ``matchResources.resourceRules`` pick, and everything without them."""
    if obj.get("kind") == "MutatingAdmissionPolicyBinding":
        spec = obj.get("spec") or {}
        if not isinstance(spec, Mapping) or spec.get("policyName") in policies:
            return []
        rules = (spec.get("matchResources") or {}).get("resourceRules") or ()
        if not rules:
            return [("spec.policyName (a policy the revision does not hold, with no resourceRules)",
                     {"apiGroups": ["*"], "resources": ["*"]})]
        return [(f"spec.matchResources.resourceRules[{j}]", rule) for j, rule in enumerate(rules)]
    if obj.get("kind") == "MutatingWebhookConfiguration":
        return [(f"webhooks[{i}].rules[{j}]", rule) for i, w in enumerate(obj.get("webhooks") or ())
                if isinstance(w, Mapping) for j, rule in enumerate(w.get("rules") or ())]
    if obj.get("kind") == "MutatingAdmissionPolicy":
        rules = ((obj.get("spec") or {}).get("matchConstraints") or {}).get("resourceRules") or ()
        return [(f"spec.matchConstraints.resourceRules[{j}]", rule) for j, rule in enumerate(rules)]
    return []


def _granted_by_name(kind: str, cluster_kinds: Collection[str]) -> bool:
    return kind in cluster_kinds or f"{_ADMISSION}/{kind}" in cluster_kinds


def why_mutating_pods(obj: Mapping[str, Any], cluster_kinds: Collection[str],
                      policies: Collection[str] = ()) -> str:
    """How mutating admission object ``obj`` could rewrite pods after the floor and the identity guard
    judged them ("" when its rules pick only resources that carry no pod spec, or when ``cluster_kinds``
    does not grant its kind by name: the grant or :func:`why_intercepting` refuses it then)."""
    if group_of(ref_of(obj)) != _ADMISSION or not _granted_by_name(str(obj.get("kind")), cluster_kinds):
        return ""
    for key, rule in _mutation_rules(obj, policies):
        picked = _picks_pods(rule) if isinstance(rule, Mapping) else ""
        if picked:
            return (f"could rewrite pods after the floor and the identity guard judged them: its {key} picks "
                    f"{picked}, which carries a pod spec (the operator's grant may allow it: "
                    "allowMutatingPods)")
    return ""


def why_intercepting(obj: Mapping[str, Any], settings: Settings, cluster_kinds: Collection[str],
                     covered: NamespaceCovered | None = None) -> str:
    """How admission object ``obj`` could intercept the reconciler's own writes, or writes outside the
    source's grant ("" when it cannot, or when ``cluster_kinds``, the source's granted cluster-scoped
    kinds, does not grant its kind: the grant refuses it then). A glob never grants these kinds, only their
    name. ``covered``: which namespaces the grant admits, None for a cluster-wide grant (every namespace
    but the reconciler's)."""
    kind = str(obj.get("kind"))
    if group_of(ref_of(obj)) != _ADMISSION or kind not in _WEBHOOK_KINDS | _POLICY_KINDS | _BINDING_KINDS:
        return ""
    if not _granted_by_name(kind, cluster_kinds):
        if any(fnmatch.fnmatchcase(kind, p) or fnmatch.fnmatchcase(f"{_ADMISSION}/{kind}", p)
               for p in cluster_kinds):
            return f"could intercept the reconciler's own writes: a glob grants {kind}, only its name may"
        return ""  # not granted: the grant refuses it
    namespace = settings.namespace
    for where, selector, rules in _match_blocks(obj):  # a configuration without webhooks picks nothing
        if not _excludes(selector, namespace):
            return (f"could intercept the reconciler's own writes: its {where} does not exclude namespace "
                    f"{namespace} (namespaceSelector {_NAME_LABEL} NotIn [{namespace}])")
        if _matches_sources(rules):
            return f"could intercept the reconciler's own writes: its {where} matches {SOURCE_KIND} objects"
        if covered is not None and (why := _beyond_grant(where, selector, rules, covered)):
            return why
    return ""


def why_borrowing(obj: Mapping[str, Any], settings: Settings,
                  secrets: Collection[tuple[str, str]] = frozenset()) -> str:
    """How ``obj`` would obtain or use the reconciler's identity ("" when it would not): a pod reads only
    Secrets of its own namespace, so one in any namespace reading an own Secret there (the reconciler's
    credentials, or a Source's git credentials in the Source's namespace) is refused."""
    if runs_as_reconciler(obj, settings):
        return "would run as the reconciler's own ServiceAccount"
    namespace = _namespace(obj)
    own = sorted(n for spec in _pod_specs(obj) for n in _secrets_used(spec)
                 if own_object(ObjectRef("v1", "Secret", n, namespace), settings, secrets))
    if own:
        return f"would read the reconciler's own Secret {own[0]}"
    if token_for(obj) == (settings.namespace, APP):
        return "would mint a token for the reconciler's own ServiceAccount"
    return _binding_why(obj, settings)


def borrowing_identity(objects: Iterable[Mapping[str, Any]], settings: Settings,
                       secrets: Collection[tuple[str, str]] = frozenset(),
                       cluster_kinds: Collection[str] = (),
                       covered: NamespaceCovered | None = None, *,
                       mutating_pods: bool = False) -> list[tuple[ObjectRef, str]]:
    """Each object that would obtain or use the reconciler's identity, intercept its writes (or writes
    outside the grant) or rewrite pods after they were judged, with how; ``cluster_kinds``, ``covered``,
    ``mutating_pods``: the source's grant (:func:`why_intercepting`, :func:`why_mutating_pods`)."""
    objects = list(objects)
    policies = {str((o.get("metadata") or {}).get("name")) for o in objects
                if o.get("kind") == "MutatingAdmissionPolicy" and group_of(ref_of(o)) == _ADMISSION}
    return [(ref_of(o), why) for o in objects
            if (why := why_borrowing(o, settings, secrets)
                or why_intercepting(o, settings, cluster_kinds, covered)
                or why_mutating_identity(o, cluster_kinds, policies)
                or ("" if mutating_pods else why_mutating_pods(o, cluster_kinds, policies)))]

"""Where a policy looks inside an object: ``foreach`` iteration and dotted JSON paths."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from functools import lru_cache
from typing import Any

POD_SPEC_PATHS: Mapping[str, str] = {
    "Pod": "spec",
    "PodTemplate": "template.spec",
    "CronJob": "spec.jobTemplate.spec.template.spec",
}
_TEMPLATE_SPEC = "spec.template.spec"
WORKLOAD_KINDS = (
    "Pod", "PodTemplate", "Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "ReplicationController",
    "Job", "CronJob",
)


# where a pod spec sits in an object of any other kind (a custom resource its controller runs pods from: an
# Argo Rollout, a KEDA ScaledJob, a Tekton podTemplate, …), each the ``spec`` of a pod template
EMBEDDED_POD_SPEC_PATHS = ("spec.template.spec", "spec.jobTemplate.spec.template.spec",
                           "spec.podTemplate.spec")

# the API groups of the built-in workload kinds: a custom resource may take any of their kind names
_BUILT_IN_GROUPS: Mapping[str, tuple[str, ...]] = {
    "Pod": ("",), "PodTemplate": ("",), "ReplicationController": ("",),
    "Deployment": ("apps", "extensions"), "StatefulSet": ("apps",), "DaemonSet": ("apps", "extensions"),
    "ReplicaSet": ("apps", "extensions"), "Job": ("batch",), "CronJob": ("batch",),
}


def is_built_in_workload(obj: Mapping[str, Any]) -> bool:
    """True for a built-in workload, decided by API group and kind; an object without ``apiVersion`` is
    taken by its kind name (it is no API object, only a policy test's fragment)."""
    groups = _BUILT_IN_GROUPS.get(str(obj.get("kind", "")))
    if groups is None:
        return False
    api_version = obj.get("apiVersion")
    if api_version is None:
        return True
    group, _, _ = str(api_version).rpartition("/")
    return group in groups


def pod_specs(obj: Mapping[str, Any]) -> list[tuple[str, Mapping[str, Any]]]:
    """Every ``(path, pod spec)`` an object holds: a built-in workload's one pod spec; for any other kind
    each mapping at :data:`EMBEDDED_POD_SPEC_PATHS` (a custom resource may run several pods)."""
    kind = str(obj.get("kind", ""))
    paths = (pod_spec_path(kind),) if is_built_in_workload(obj) else EMBEDDED_POD_SPEC_PATHS
    found: list[tuple[str, Mapping[str, Any]]] = []
    for path in paths:
        spec = get(obj, path)
        if isinstance(spec, Mapping):
            found.append((path, spec))
    return found


def embedded_pod_spec_paths(obj: Mapping[str, Any]) -> list[str]:
    """The paths of the pod specs (mappings with a ``containers`` list) in ``obj`` that the pack does not
    read itself: it reads a kind of :data:`WORKLOAD_KINDS` by kind name, at :func:`pod_spec_path`."""
    read = pod_spec_path(str(obj.get("kind", ""))) if str(obj.get("kind", "")) in WORKLOAD_KINDS else None
    return [path for path, spec in pod_specs(obj)
            if path != read and isinstance(spec.get("containers"), list)]


def join(prefix: str, rest: str) -> str:
    if not rest:
        return prefix
    if not prefix:
        return rest.lstrip(".")
    return prefix + rest if rest.startswith("[") else f"{prefix}.{rest}"


def get(obj: Any, path: str) -> Any:
    """The value at a dotted path with ``[i]`` indices, or None when any step is missing."""
    node = obj
    for step in _steps(path):
        if isinstance(step, int):
            if not isinstance(node, list) or step >= len(node):
                return None
            node = node[step]
        else:
            if not isinstance(node, Mapping) or step not in node:
                return None
            node = node[step]
    return node


def _steps(path: str) -> Iterator[str | int]:
    for part in path.split("."):
        if not part:
            continue
        name, _, rest = part.partition("[")
        if name:
            yield name
        while rest:
            index, _, rest = rest.partition("]")
            yield "*" if index == "*" else int(index)
            rest = rest.removeprefix("[")


def pod_spec_path(kind: str) -> str:
    return POD_SPEC_PATHS.get(kind, _TEMPLATE_SPEC)


NAMED_LISTS: Mapping[str, tuple[str, ...]] = {
    "containers": ("containers",),
    "initContainers": ("initContainers",),
    "allContainers": ("containers", "initContainers", "ephemeralContainers"),
    "volumes": ("volumes",),
}
_NAMED = {
    "podSpec": ("",),
    "containers": ("containers[*]",),
    "initContainers": ("initContainers[*]",),
    "allContainers": ("containers[*]", "initContainers[*]", "ephemeralContainers[*]"),
    "volumes": ("volumes[*]",),
}


def iterate(obj: Mapping[str, Any], foreach: str) -> list[tuple[str, Any]]:
    """``(path, item)`` pairs a ``foreach`` names: ``""`` (the object itself); a pod-spec relative
    name (``podSpec``, ``containers``, ``initContainers``, ``allContainers`` (with init and ephemeral),
    ``volumes``) resolved for Pods, templates and CronJobs; or a dotted path whose ``[*]`` steps fan
    out over lists."""
    if not foreach:
        return [("", obj)]
    relative = _NAMED.get(foreach)
    if relative is None:
        return _fan_out(obj, foreach)
    kind = str(obj.get("kind", ""))
    if kind not in WORKLOAD_KINDS:
        return []
    spec_path = pod_spec_path(kind)
    found: list[tuple[str, Any]] = []
    for rel in relative:
        found.extend(_fan_out(obj, join(spec_path, rel)))
    return found


def pod_spec(obj: Mapping[str, Any]) -> Any:
    kind = str(obj.get("kind", ""))
    return get(obj, pod_spec_path(kind)) if kind in WORKLOAD_KINDS else None


def _fan_out(obj: Any, pattern: str) -> list[tuple[str, Any]]:
    results: list[tuple[str, Any]] = [("", obj)]
    for step in _pattern_steps(pattern):
        following: list[tuple[str, Any]] = []
        for path, node in results:
            if step == "*":
                if isinstance(node, list):
                    following.extend((f"{path}[{i}]", item) for i, item in enumerate(node))
            elif isinstance(step, int):
                if isinstance(node, list) and step < len(node):
                    following.append((f"{path}[{step}]", node[step]))
            # a plain dict first: isinstance against the Mapping ABC is the slow check
            elif (type(node) is dict or isinstance(node, Mapping)) and step in node:
                following.append((join(path, step), node[step]))
        results = following
    return [(path, node) for path, node in results if node is not None]


@lru_cache(maxsize=512)
def _pattern_steps(pattern: str) -> tuple[str | int, ...]:
    """A ``foreach`` pattern's steps, parsed once: every workload object fans out the same few."""
    return tuple(_steps(pattern))

"""List, then watch, one kind: every object's latest version handed to a callback, a relist whenever the
watch's resourceVersion expires (410 Gone) or the stream breaks, so no change is missed for long."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping
from typing import Any

from handoff.kube.client import KubeClient, KubeError, WatchExpired

log = logging.getLogger("handoff.reconciler")
WATCH_SECONDS = 300  # the server ends a watch after this; the next one resumes from the last version
_RETRY_SECONDS = 2.0


def _key(obj: Mapping[str, Any]) -> tuple[str, str]:
    meta = obj.get("metadata") or {}
    return str(meta.get("namespace") or ""), str(meta.get("name") or "")


def _identity(obj: Mapping[str, Any]) -> dict[str, Any]:
    """What is remembered of an object between events: its name, never its data (a Secret's values)."""
    namespace, name = _key(obj)
    return {"apiVersion": obj.get("apiVersion"), "kind": obj.get("kind"),
            "metadata": {"namespace": namespace, "name": name}}


class ListWatch:
    """Keeps ``on_change(obj)`` / ``on_delete(obj)`` told about every object of ``kind``. After a relist,
    objects that vanished meanwhile are reported deleted, and every object is reported again."""

    def __init__(self, client: KubeClient, api_version: str, kind: str, *,
                 on_change: Callable[[dict[str, Any]], None], on_delete: Callable[[dict[str, Any]], None],
                 namespace: str = "", watch_seconds: int = WATCH_SECONDS,
                 metadata_only: bool = False) -> None:
        self.client, self.api_version, self.kind, self.namespace = client, api_version, kind, namespace
        self.metadata_only = metadata_only  # each object's metadata only (Secrets: never their data)
        self.on_change, self.on_delete = on_change, on_delete
        self.watch_seconds = watch_seconds
        self.known: dict[tuple[str, str], dict[str, Any]] = {}  # identities only
        self.synced = threading.Event()  # set once the first list was handed over
        self.relists = 0

    def relist(self) -> str:
        items, version = self.client.list_at_version(self.api_version, self.kind, namespace=self.namespace,
                                                     metadata_only=self.metadata_only)
        seen = {_key(o): o for o in items}
        for key in [k for k in self.known if k not in seen]:
            self.on_delete(self.known.pop(key))
        for key, obj in seen.items():
            self.known[key] = _identity(obj)
            self.on_change(obj)
        self.relists += 1
        self.synced.set()
        return version

    def watch_once(self, version: str, stop: threading.Event) -> str:
        """Follow one watch from ``version``; the version to resume from."""
        for event in self.client.watch(self.api_version, self.kind, resource_version=version,
                                       namespace=self.namespace, timeout_seconds=self.watch_seconds,
                                       metadata_only=self.metadata_only):
            obj = event.get("object") or {}
            version = str((obj.get("metadata") or {}).get("resourceVersion") or version)
            kind = event.get("type")
            if kind in ("ADDED", "MODIFIED"):
                self.known[_key(obj)] = _identity(obj)
                self.on_change(obj)
            elif kind == "DELETED":
                self.known.pop(_key(obj), None)
                self.on_delete(obj)
            if stop.is_set():
                break
        return version

    def run(self, stop: threading.Event, version: str = "") -> None:
        """Watch until ``stop``, from ``version`` (a list first when empty)."""
        while not stop.is_set():
            try:
                if not version:
                    version = self.relist()
                version = self.watch_once(version, stop)
            except WatchExpired:
                version = ""  # too old: list again (objects changed meanwhile are reported then)
            except KubeError as e:
                log.warning("watch failed; listing again", extra={"kind": self.kind, "error": str(e)})
                version = ""
                stop.wait(_RETRY_SECONDS)
            except Exception:  # a bug: keep watching, as the loop keeps serving
                log.exception("unexpected error in a watch", extra={"kind": self.kind})
                version = ""
                stop.wait(_RETRY_SECONDS)

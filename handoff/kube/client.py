"""A small Kubernetes REST client: one pooled HTTPS session, discovery cache, server-side apply.

Raw REST instead of the ``kubernetes`` package keeps the reconciler lean (no generated models in
memory); every failure is mapped to :class:`KubeError` at this boundary.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests
import urllib3

from handoff.kube.connection import IN_CLUSTER_DIR, Connection, in_cluster_connection
from handoff.kube.credentials import ClientCert, Credential
from handoff.kube.errors import CredentialError, KubeError, KubeUnavailable, error_for
from handoff.kube.kubeconfig import load_kubeconfig
from handoff.kube.tls import TlsAdapter, ssl_context
from handoff.report.model import ObjectRef

# the names callers have always imported from here
__all__ = ["FIELD_MANAGER", "IN_CLUSTER_DIR", "Connection", "CredentialError", "KubeClient", "KubeError",
           "KubeUnavailable", "Resource", "WatchExpired", "connect", "in_cluster_connection",
           "load_kubeconfig"]

FIELD_MANAGER = "handoff"
_TIMEOUT = (5.0, 60.0)
# the API server's metadata-only representation (what client-go's metadata informers ask for): a list or
# watch of Secrets without their data
METADATA_LIST = "application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1"
METADATA_OBJECT = "application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v1"


class WatchExpired(KubeError):
    """A watch's resourceVersion is too old (410 Gone): list again and watch from the new version."""


@dataclass(frozen=True)
class Resource:
    """Where a kind lives in the REST API."""

    api_version: str
    kind: str
    plural: str
    namespaced: bool

    def path(self, namespace: str = "", name: str = "") -> str:
        base = "/api/v1" if self.api_version == "v1" else f"/apis/{self.api_version}"
        ns = f"/namespaces/{namespace}" if self.namespaced and namespace else ""
        tail = f"/{name}" if name else ""
        return f"{base}{ns}/{self.plural}{tail}"


class KubeClient:
    """Thread-safe enough for one reconciler: a pooled session and a discovery cache."""

    def __init__(self, conn: Connection, *, impersonate: str | None = None,
                 groups: tuple[str, ...] = ()) -> None:
        self.conn = conn
        self.session = requests.Session()
        self._groups = groups
        self._credentials = conn.credential_source()
        self._tls = conn.tls()
        self._tls_lock = threading.Lock()
        self._mounted: tuple[ClientCert | None] | None = None  # the exec client cert mounted, once mounted
        self.session.headers["Accept"] = "application/json"
        self.session.headers["User-Agent"] = "handoff-reconciler"
        if impersonate:
            self.session.headers["Impersonate-User"] = impersonate
        self._verify: bool = conn.verify
        self.session.trust_env = False  # no proxies from the environment for the API server ...
        if conn.proxy_url:  # ... only the kubeconfig's proxy-url
            self.session.proxies = {"https": conn.proxy_url, "http": conn.proxy_url}
        if not conn.verify:
            urllib3.disable_warnings(urllib3.exceptions.InsecureRequestWarning)
        self._resources: dict[tuple[str, str], Resource] = {}
        self._lock = threading.Lock()

    def close(self) -> None:
        self.session.close()

    def _use(self, credential: Credential) -> None:
        """Send ``credential`` from now on: its token as the bearer, its client certificate (an exec
        plugin's) through a freshly mounted adapter so pooled connections keep no stale certificate."""
        if credential.token:
            self.session.headers["Authorization"] = f"Bearer {credential.token}"
        else:
            self.session.headers.pop("Authorization", None)
        with self._tls_lock:
            if self._mounted == (credential.client_cert,):
                return
            adapter = TlsAdapter(ssl_context(self._tls, credential.client_cert), self._tls.server_name,
                                 groups=self._groups, pool_connections=2, pool_maxsize=4, max_retries=0)
            self.session.mount("https://", adapter)
            self.session.mount("http://", adapter)
            self._mounted = (credential.client_cert,)

    def _send(self, method: str, url: str, **kwargs: Any) -> requests.Response:
        """One request with the current credential; after a 401, once more with a refreshed one (a
        rotated token file, an exec credential revoked before its expiry)."""
        headers = dict(kwargs.pop("headers", None) or {})
        timeout = kwargs.pop("timeout", _TIMEOUT)  # a watch waits longer for its next event
        credential = self._credentials.current()
        for attempt in (1, 2):
            self._use(credential)
            # per request as well: another thread may be switching the session's header meanwhile
            headers["Authorization"] = f"Bearer {credential.token}" if credential.token else None
            r = self.session.request(method, url, headers=headers, timeout=timeout, verify=self._verify,
                                     **kwargs)
            if r.status_code != 401 or attempt == 2 or not self._credentials.refresh(credential):
                break
            credential = self._credentials.current()
        return r

    def impersonating(self, user: str, groups: tuple[str, ...] = ()) -> KubeClient:
        """A client on the same connection acting as ``user`` in ``groups`` (``Impersonate-User``, one
        ``Impersonate-Group`` header each): the API server authorises each request as that user."""
        return KubeClient(self.conn, impersonate=user, groups=groups)

    # ---- transport -------------------------------------------------------------------------------
    def request(self, method: str, path: str, *, params: Mapping[str, str] | None = None,
                body: Any = None, content_type: str = "application/json", accept: str = "") -> Any:
        data = None if body is None else json.dumps(body, separators=(",", ":"))
        headers = {"Content-Type": content_type} if data is not None else {}
        if accept:
            headers["Accept"] = accept
        try:
            r = self._send(method, self.conn.server + path, params=params, data=data, headers=headers)
        except requests.RequestException as e:
            raise KubeUnavailable(f"API server unreachable: {type(e).__name__}") from e
        if r.status_code >= 400:
            try:
                st = r.json()
                message, reason = str(st.get("message", r.text)), str(st.get("reason", ""))
            except ValueError:
                message, reason = r.text[:300], ""
            raise error_for(r.status_code, reason, message,
                            text=f"{method} {path}: {r.status_code} {message}")
        if not r.content:
            return {}
        return r.json()

    # ---- discovery -------------------------------------------------------------------------------
    def resource(self, api_version: str, kind: str) -> Resource:
        key = (api_version, kind)
        with self._lock:
            found = self._resources.get(key)
        if found is not None:
            return found
        path = "/api/v1" if api_version == "v1" else f"/apis/{api_version}"
        try:
            listing = self.request("GET", path)
        except KubeError as e:
            if e.status == 404:
                raise KubeError(f"unknown apiVersion {api_version}", status=404, reason="NotFound") from e
            raise
        with self._lock:
            for r in listing.get("resources", []):
                if "/" in r["name"]:
                    continue
                self._resources[(api_version, r["kind"])] = Resource(
                    api_version, r["kind"], r["name"], bool(r["namespaced"]))
            found = self._resources.get(key)
        if found is None:
            raise KubeError(f"unknown kind {kind} in {api_version}", status=404, reason="NotFound")
        return found

    def forget_discovery(self) -> None:
        with self._lock:
            self._resources.clear()

    # ---- verbs -----------------------------------------------------------------------------------
    def get(self, api_version: str, kind: str, name: str, namespace: str = "") -> dict[str, Any] | None:
        res = self.resource(api_version, kind)
        try:
            obj: dict[str, Any] = self.request("GET", res.path(namespace, name))
        except KubeError as e:
            if e.status == 404:
                return None
            raise
        return obj

    def list(self, api_version: str, kind: str, *, namespace: str = "",
             label_selector: str = "") -> Iterator[dict[str, Any]]:
        res = self.resource(api_version, kind)
        params: dict[str, str] = {"limit": "500"}
        if label_selector:
            params["labelSelector"] = label_selector
        while True:
            page = self.request("GET", res.path(namespace), params=params)
            for item in page.get("items", []):
                item.setdefault("apiVersion", api_version)
                item.setdefault("kind", kind)
                yield item
            cont = (page.get("metadata") or {}).get("continue")
            if not cont:
                return
            params["continue"] = cont

    def list_at_version(self, api_version: str, kind: str, *, namespace: str = "",
                        metadata_only: bool = False) -> tuple[tuple[dict[str, Any], ...], str]:
        """Every object of a kind and the list's resourceVersion, to :meth:`watch` from.
        ``metadata_only``: each object's ``metadata`` alone (``PartialObjectMetadata``), never its data."""
        res = self.resource(api_version, kind)
        params: dict[str, str] = {"limit": "500"}
        items: tuple[dict[str, Any], ...] = ()
        accept = METADATA_LIST if metadata_only else ""
        while True:
            page = self.request("GET", res.path(namespace), params=params, accept=accept)
            for item in page.get("items", []):
                item.setdefault("apiVersion", api_version)
                item.setdefault("kind", kind)
            items += tuple(page.get("items", []))
            meta = page.get("metadata") or {}
            if not meta.get("continue"):
                return items, str(meta.get("resourceVersion", ""))
            params["continue"] = str(meta["continue"])

    def apply(self, obj: Mapping[str, Any], *, dry_run: bool = False,
              manager: str = FIELD_MANAGER) -> dict[str, Any]:
        """Server-side apply ``obj`` with ``force``: the field manager takes every field it sets."""
        meta = obj.get("metadata") or {}
        res = self.resource(str(obj["apiVersion"]), str(obj["kind"]))
        params = {"fieldManager": manager, "force": "true"}
        if dry_run:
            params["dryRun"] = "All"
        out: dict[str, Any] = self.request(
            "PATCH", res.path(str(meta.get("namespace") or ""), str(meta["name"])), params=params,
            body=obj, content_type="application/apply-patch+yaml")
        return out

    def patch(self, ref: ObjectRef, body: Any, *, content_type: str = "application/json-patch+json",
              params: Mapping[str, str] | None = None) -> dict[str, Any]:
        res = self.resource(ref.api_version, ref.kind)
        out: dict[str, Any] = self.request("PATCH", res.path(ref.namespace, ref.name), body=body,
                                           content_type=content_type, params=params)
        return out

    def create(self, obj: Mapping[str, Any]) -> dict[str, Any]:
        meta = obj.get("metadata") or {}
        res = self.resource(str(obj["apiVersion"]), str(obj["kind"]))
        out: dict[str, Any] = self.request("POST", res.path(str(meta.get("namespace") or "")), body=obj)
        return out

    def replace(self, obj: Mapping[str, Any]) -> dict[str, Any]:
        meta = obj.get("metadata") or {}
        res = self.resource(str(obj["apiVersion"]), str(obj["kind"]))
        out: dict[str, Any] = self.request(
            "PUT", res.path(str(meta.get("namespace") or ""), str(meta["name"])), body=obj)
        return out

    def delete(self, api_version: str, kind: str, name: str, namespace: str = "") -> bool:
        res = self.resource(api_version, kind)
        try:
            self.request("DELETE", res.path(namespace, name), body={
                "kind": "DeleteOptions", "apiVersion": "v1", "propagationPolicy": "Background"})
        except KubeError as e:
            if e.status == 404:
                return False
            raise
        return True

    def watch(self, api_version: str, kind: str, *, resource_version: str, namespace: str = "",
              timeout_seconds: int = 300, metadata_only: bool = False) -> Iterator[dict[str, Any]]:
        """Watch events (``{"type": ADDED|MODIFIED|DELETED|BOOKMARK|ERROR, "object": …}``) after
        ``resource_version``, until the server ends the watch (at most ``timeout_seconds``). A
        ``410 Gone`` (the version is too old) raises :class:`WatchExpired`: list again, then watch.
        ``metadata_only``: each object's ``metadata`` alone, as :meth:`list_at_version` gives it."""
        res = self.resource(api_version, kind)
        params = {"watch": "1", "resourceVersion": resource_version, "allowWatchBookmarks": "true",
                  "timeoutSeconds": str(timeout_seconds)}
        headers = {"Accept": METADATA_OBJECT} if metadata_only else {}
        try:
            r = self._send("GET", self.conn.server + res.path(namespace), params=params, stream=True,
                           timeout=(_TIMEOUT[0], timeout_seconds + 30.0), headers=headers)
        except requests.RequestException as e:
            raise KubeUnavailable(f"API server unreachable: {type(e).__name__}") from e
        with r:
            if r.status_code == 410:
                raise WatchExpired(f"watch {res.path(namespace)}: 410 Gone", status=410, reason="Expired")
            if r.status_code >= 400:
                raise error_for(r.status_code, "", r.text[:300],
                                text=f"watch {res.path(namespace)}: {r.status_code} {r.text[:300]}")
            try:
                # chunk_size None: each event as it arrives, not when a buffer fills
                for line in r.iter_lines(chunk_size=None):  # type: ignore[call-overload]
                    if not line:
                        continue
                    event: dict[str, Any] = json.loads(line)
                    if event.get("type") == "ERROR":
                        code = int((event.get("object") or {}).get("code") or 0)
                        message = str((event.get("object") or {}).get("message", ""))[:300]
                        if code == 410:
                            raise WatchExpired(f"watch {res.path(namespace)}: {message}", status=410)
                        raise KubeError(f"watch {res.path(namespace)}: {code} {message}", status=code)
                    obj = event.get("object") or {}
                    obj.setdefault("apiVersion", api_version)
                    obj.setdefault("kind", kind)
                    yield event
            except (requests.RequestException, ValueError) as e:
                raise KubeUnavailable(f"watch {res.path(namespace)} broken: {type(e).__name__}") from e

    def healthy(self) -> bool:
        """``/readyz`` answers 200 (its body is plain text, not JSON)."""
        try:
            r = self._send("GET", self.conn.server + "/readyz")
        except (requests.RequestException, KubeError):
            return False
        return r.status_code == 200


def connect(kubeconfig: Path | None) -> KubeClient:
    return KubeClient(load_kubeconfig(kubeconfig) if kubeconfig else in_cluster_connection())

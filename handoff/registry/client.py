"""A minimal OCI Distribution API client (urllib only): does a tag exist, and what is its digest.

Auth: anonymous first; on a ``401`` with a ``Bearer`` challenge, fetch a token from the realm
(Docker Hub, GHCR, GitLab registry style), with Docker's credentials (``handoff.registry.credentials``:
``config.json`` auths, credential helpers) when present; on a ``Basic`` challenge send those credentials.
Credentials are never sent to another host after a redirect.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import IO, Any

from handoff.errors import RegistryError
from handoff.imageref import DEFAULT_REGISTRY, ImageRef
from handoff.redact import redact, register
from handoff.registry.credentials import Credentials, docker_credentials

MANIFEST_TYPES = (
    "application/vnd.oci.image.index.v1+json",
    "application/vnd.oci.image.manifest.v1+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
    "application/vnd.docker.distribution.manifest.v2+json",
)
MAX_MANIFEST_BYTES = 4 * 1024 * 1024
MAX_TOKEN_BYTES = 64 * 1024
_CHALLENGE_PARAM = re.compile(r'(\w+)="([^"]*)"')
_DIGEST = re.compile(r"^sha256:[a-f0-9]{64}$")


@dataclass(frozen=True)
class Resolved:
    """The registry's answer for ``reference``: the tag exists and its manifest has ``digest``."""

    reference: ImageRef
    digest: str
    media_type: str


def registry_host(ref: ImageRef) -> str:
    host = ref.registry or DEFAULT_REGISTRY
    return "registry-1.docker.io" if host in (DEFAULT_REGISTRY, "index.docker.io") else host


def _repository(ref: ImageRef) -> str:
    host = ref.registry or DEFAULT_REGISTRY
    if host in (DEFAULT_REGISTRY, "index.docker.io") and "/" not in ref.repository:
        return f"library/{ref.repository}"
    return ref.repository


def is_insecure(host: str, env: Mapping[str, str] | None = None) -> bool:
    """Plain http for loopback registries and those listed in ``HANDOFF_INSECURE_REGISTRIES``."""
    e = os.environ if env is None else env
    listed = {h.strip() for h in e.get("HANDOFF_INSECURE_REGISTRIES", "").split(",") if h.strip()}
    bare = host.rsplit(":", 1)[0] if not host.startswith("[") else host.split("]", maxsplit=1)[0] + "]"
    return host in listed or bare in ("localhost", "127.0.0.1", "[::1]")


def check_digest(ref: ImageRef, host: str, digest: str) -> None:
    """Refuse a malformed digest, or one other than the digest ``ref`` pins."""
    if not _DIGEST.match(digest):
        raise RegistryError(f"registry {host} sent a malformed digest {digest!r} for {ref}")
    if ref.digest and ref.digest != digest:
        raise RegistryError(f"registry {host} has digest {digest} for {ref}, not {ref.digest}")


class _SameHostRedirects(urllib.request.HTTPRedirectHandler):
    """Follow redirects, dropping the Authorization header when the host changes (e.g. to a CDN)."""

    def redirect_request(self, req: urllib.request.Request, fp: IO[bytes], code: int, msg: str,  # noqa: PLR0917
                         headers: Any, newurl: str) -> urllib.request.Request | None:
        new = super().redirect_request(req, fp, code, msg, headers, newurl)
        moved = urllib.parse.urlsplit(newurl).netloc != urllib.parse.urlsplit(req.full_url).netloc
        if new is not None and moved:
            new.remove_header("Authorization")
        return new


def _lower_keys(items: Iterable[tuple[str, str]]) -> dict[str, str]:
    # Header names are case-insensitive: Go servers send "Www-Authenticate", Python "WWW-Authenticate".
    return {name.lower(): value for name, value in items}


def _read_bounded(resp: IO[bytes], limit: int, what: str) -> bytes:
    data = resp.read(limit + 1)
    if len(data) > limit:
        raise RegistryError(f"{what} is larger than {limit} bytes; refusing to read it")
    return data


def _token_request(params: Mapping[str, str], creds: Credentials | None,
                   repository: str) -> urllib.request.Request:
    """The token request for a Bearer challenge: GET with basic auth (or anonymous), or, for an identity
    (refresh) token, the OAuth2 POST ``grant_type=refresh_token`` as the Docker engine sends it."""
    form = {"scope": params.get("scope") or f"repository:{repository}:pull"}
    if params.get("service"):
        form["service"] = params["service"]
    realm = params["realm"]
    if creds is not None and creds.identity_token and not creds.username:
        body = urllib.parse.urlencode({**form, "grant_type": "refresh_token", "client_id": "handoff",
                                       "refresh_token": creds.identity_token}).encode()
        return urllib.request.Request(realm, data=body, method="POST",  # noqa: S310 (realm is http(s))
                                      headers={"Content-Type": "application/x-www-form-urlencoded"})
    url = realm + ("&" if "?" in realm else "?") + urllib.parse.urlencode(form)
    request = urllib.request.Request(url, method="GET")  # noqa: S310 (realm is http(s))
    if creds is not None and creds.username:
        raw = base64.b64encode(f"{creds.username}:{creds.password}".encode()).decode()
        request.add_header("Authorization", f"Basic {raw}")
    return request


class RegistryClient:
    def __init__(self, *, credentials: Credentials | None = None, timeout: float = 30.0,
                 env: Mapping[str, str] | None = None) -> None:
        self._credentials = credentials
        self._timeout = timeout
        self._env = env
        self._opener = urllib.request.build_opener(_SameHostRedirects())

    def resolve(self, ref: ImageRef) -> Resolved:
        """Check that ``ref``'s tag (or digest) exists and return its manifest digest."""
        reference = ref.digest or ref.tag or "latest"
        host = registry_host(ref)
        scheme = "http" if is_insecure(host, self._env) else "https"
        url = f"{scheme}://{host}/v2/{_repository(ref)}/manifests/{urllib.parse.quote(reference, safe=':')}"
        status, headers, body = self._get(url, None)
        if status == 401:
            # Asked only now: a credential helper (ECR, GCR) may be slow or fail; a public image needs none.
            creds = self._credentials or docker_credentials(host, self._env)
            auth = self._authorization(headers.get("www-authenticate", ""), creds, _repository(ref))
            status, headers, body = self._get(url, auth)
        if status == 404:
            raise RegistryError(f"image {ref} not found in the registry (tag {reference!r} does not exist)")
        if status in (401, 403):
            raise RegistryError(f"registry {host} refused access to {ref.name} ({status}); "
                                "check docker config.json credentials")
        if status != 200:
            raise RegistryError(f"registry {host} answered {status} for {ref}")
        computed = "sha256:" + hashlib.sha256(body).hexdigest()
        digest = headers.get("docker-content-digest", "") or computed
        if body and digest != computed:
            raise RegistryError(f"registry {host} sent a manifest whose digest does not match for {ref}")
        check_digest(ref, host, digest)
        media_type = headers.get("content-type", "").split(";")[0].strip()
        return Resolved(ref, digest, media_type)

    def _get(self, url: str, authorization: str | None) -> tuple[int, Mapping[str, str], bytes]:
        # url is always http(s)://host/v2/..., built in resolve()
        request = urllib.request.Request(url, method="GET",  # noqa: S310
                                         headers={"Accept": ", ".join(MANIFEST_TYPES)})
        if authorization:
            request.add_header("Authorization", authorization)
        try:
            with self._opener.open(request, timeout=self._timeout) as resp:
                body = _read_bounded(resp, MAX_MANIFEST_BYTES, "manifest")
                return resp.status, _lower_keys(resp.headers.items()), body
        except urllib.error.HTTPError as e:
            headers = _lower_keys(e.headers.items()) if e.headers else {}
            e.close()
            return e.code, headers, b""
        except (urllib.error.URLError, OSError) as e:
            raise RegistryError(redact(f"cannot reach registry at {url}: {e}")) from e

    def _authorization(self, challenge: str, creds: Credentials | None, repository: str) -> str | None:
        scheme, _, rest = challenge.partition(" ")
        params = dict(_CHALLENGE_PARAM.findall(rest))
        if scheme.lower() == "basic":
            if creds is None or not creds.username:
                return None
            raw = base64.b64encode(f"{creds.username}:{creds.password}".encode()).decode()
            return f"Basic {raw}"
        if scheme.lower() != "bearer" or not params.get("realm", "").startswith(("http://", "https://")):
            raise RegistryError(f"unsupported registry auth challenge {scheme!r}")
        request = _token_request(params, creds, repository)
        try:
            with self._opener.open(request, timeout=self._timeout) as resp:
                data = json.loads(_read_bounded(resp, MAX_TOKEN_BYTES, "token response"))
        except urllib.error.HTTPError as e:
            e.close()
            raise RegistryError(f"registry token endpoint refused the request ({e.code})") from e
        except (urllib.error.URLError, OSError, ValueError) as e:
            raise RegistryError(redact(f"registry token endpoint failed: {e}")) from e
        token = str(data.get("token") or data.get("access_token") or "")
        if not token:
            raise RegistryError("registry token endpoint returned no token")
        register(token)
        return f"Bearer {token}"

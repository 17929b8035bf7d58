"""Image references per the OCI distribution reference grammar (distribution/reference).

``name`` keeps what the user wrote (``nginx`` stays ``nginx``) because that is what gets written into
files; ``canonical`` adds the ``docker.io/library/`` defaults and is what comparisons use.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from handoff.errors import ImageRefError

DEFAULT_REGISTRY = "docker.io"
_LEGACY_REGISTRIES = {"index.docker.io", "registry-1.docker.io"}
_MAX_NAME_LEN = 255

_COMPONENT = re.compile(r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*")
_DOMAIN_LABEL = r"(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])"
_DOMAIN = re.compile(
    rf"(?:{_DOMAIN_LABEL}(?:\.{_DOMAIN_LABEL})*|\[[a-fA-F0-9:]+\])(?::[0-9]+)?"
)
_TAG = re.compile(r"[\w][\w.-]{0,127}")
_DIGEST = re.compile(r"[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-zA-Z0-9=_-]{32,}")
_HEX_LENGTHS = {"sha256": 64, "sha384": 96, "sha512": 128}


@dataclass(frozen=True)
class ImageRef:
    """A parsed image reference. ``registry`` is empty when the user wrote none."""

    registry: str
    repository: str
    tag: str | None = None
    digest: str | None = None

    @property
    def name(self) -> str:
        """Registry and repository as written (no defaults added)."""
        return f"{self.registry}/{self.repository}" if self.registry else self.repository

    @property
    def canonical_name(self) -> str:
        """Registry and repository with Docker Hub defaults: ``docker.io/library/nginx``."""
        registry = self.registry or DEFAULT_REGISTRY
        if registry in _LEGACY_REGISTRIES:
            registry = DEFAULT_REGISTRY
        repository = self.repository
        if registry == DEFAULT_REGISTRY and "/" not in repository:
            repository = f"library/{repository}"
        return f"{registry}/{repository}"

    @property
    def familiar_name(self) -> str:
        """The shortest equivalent name: ``nginx`` for ``docker.io/library/nginx``."""
        canonical = self.canonical_name
        official = canonical.removeprefix(f"{DEFAULT_REGISTRY}/library/")
        # as distribution/reference: only an official image (one path component) drops `library/`;
        # `docker.io/library/a/b` shortened to `a/b` would name the different image docker.io/a/b
        if official != canonical and "/" not in official:
            return official
        short = canonical.removeprefix(f"{DEFAULT_REGISTRY}/")
        # `docker.io/a.b/c` must not shorten to `a.b/c`, which would name the registry `a.b`
        return short if _split_registry(short)[0] == "" else canonical

    @property
    def canonical(self) -> str:
        return self.canonical_name + self._suffix()

    @property
    def familiar(self) -> str:
        return self.familiar_name + self._suffix()

    @property
    def path_registry(self) -> str:
        """The registry a helm ``registry:`` key should hold (``docker.io`` when none was written)."""
        return self.registry or DEFAULT_REGISTRY

    def same_repository(self, other: ImageRef) -> bool:
        return self.canonical_name == other.canonical_name

    def _suffix(self) -> str:
        return (f":{self.tag}" if self.tag else "") + (f"@{self.digest}" if self.digest else "")

    def __str__(self) -> str:
        return self.name + self._suffix()


def parse(text: str) -> ImageRef:
    """Parse ``[registry[:port]/]path[:tag][@algorithm:hex]``; raise :class:`ImageRefError` if invalid."""
    if not isinstance(text, str) or not text.strip():
        raise ImageRefError("invalid image reference: empty")
    ref = text.strip()
    if ref != text or any(c.isspace() for c in ref):
        raise ImageRefError(f"invalid image reference {text!r}: contains whitespace")
    digest: str | None = None
    if "@" in ref:
        ref, digest = ref.split("@", 1)
        _check_digest(text, digest)
    tag: str | None = None
    last_slash = ref.rfind("/")
    colon = ref.rfind(":")
    if colon > last_slash:
        ref, tag = ref[:colon], ref[colon + 1:]
        if not _TAG.fullmatch(tag):
            raise ImageRefError(
                f"invalid image reference {text!r}: tag {tag!r} must be 1-128 of [A-Za-z0-9_.-], "
                "not starting with '.' or '-'"
            )
    registry, repository = _split_registry(ref)
    if not repository:
        raise ImageRefError(f"invalid image reference {text!r}: missing repository")
    for component in repository.split("/"):
        if not _COMPONENT.fullmatch(component):
            raise ImageRefError(
                f"invalid image reference {text!r}: path component {component!r} must be lowercase "
                "letters, digits and single separators (. _ __ -)"
            )
    if registry and not _DOMAIN.fullmatch(registry):
        raise ImageRefError(f"invalid image reference {text!r}: bad registry host {registry!r}")
    parsed = ImageRef(registry=registry, repository=repository, tag=tag, digest=digest)
    # measured after adding the Docker Hub defaults, as distribution/reference's ParseNormalizedNamed does:
    # otherwise a name could parse while its canonical form (what registries and other tools see) cannot
    if len(parsed.canonical_name) > _MAX_NAME_LEN:
        raise ImageRefError(f"invalid image reference {text!r}: name longer than {_MAX_NAME_LEN} characters"
                            + ("" if len(ref) > _MAX_NAME_LEN else f" as {parsed.canonical_name[:20]}..."))
    return parsed


def _split_registry(name: str) -> tuple[str, str]:
    first, sep, rest = name.partition("/")
    if sep and ("." in first or ":" in first or first == "localhost" or first.startswith("[")):
        return first, rest
    if first != first.lower() and sep:
        raise ImageRefError(f"invalid image reference {name!r}: repository must be lowercase")
    return "", name


def _check_digest(text: str, digest: str) -> None:
    if not _DIGEST.fullmatch(digest):
        raise ImageRefError(f"invalid image reference {text!r}: digest {digest!r} is not algorithm:hex")
    algorithm, encoded = digest.split(":", 1)
    length = _HEX_LENGTHS.get(algorithm)
    if length is not None and not re.fullmatch(rf"[a-f0-9]{{{length}}}", encoded):
        raise ImageRefError(
            f"invalid image reference {text!r}: a {algorithm} digest is {length} lowercase hex characters"
        )

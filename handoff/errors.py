"""One error hierarchy. A ``HandoffError`` is expected: one line to the user and a documented exit code.
Anything else is a bug: the CLI says "unexpected error" and writes the traceback to a log file.

Exit codes (documented in the README):
  0  success (including "nothing to change")
  1  the operation ran and failed on its input: findings at or above --fail-on, a refused edit, a forge error
  2  usage or configuration error: bad flags, bad config file, bad image reference
  3  unexpected error (a bug)
"""

from __future__ import annotations

from handoff.redact import redact

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_BUG = 3


class HandoffError(Exception):
    """An expected failure, shown to the user as one redacted line."""

    exit_code = EXIT_FAILED

    def __init__(self, message: str, *, file: str | None = None, line: int | None = None,
                 key: str | None = None) -> None:
        self.message = message
        self.file = file
        self.line = line
        self.key = key
        super().__init__(message)

    def __str__(self) -> str:
        where = ""
        if self.file:
            where = self.file if self.line is None else f"{self.file}:{self.line}"
            where += ": "
        at = f"at {self.key}: " if self.key else ""
        # every part may hold text from the input (a key named "web\n"): any line break would split the line
        return redact(" ".join(f"{where}{at}{self.message}".splitlines()))


class UsageError(HandoffError):
    """Bad flags or arguments."""

    exit_code = EXIT_USAGE


class ConfigError(HandoffError):
    """The `.handoff.yaml` (or another config file) is invalid."""

    exit_code = EXIT_USAGE


class ImageRefError(UsageError):
    """An image reference does not follow the OCI distribution reference grammar."""


class YamlError(HandoffError):
    """A YAML file cannot be parsed, is too large, too deep or an alias bomb."""


class EditError(HandoffError):
    """A target cannot be located or an edit would change more than the intended value."""


class ImageNotDeclared(EditError):
    """The target exists but declares no image yet (e.g. an overlay with no `images:` entry)."""


class NoTargetInEnv(UsageError):
    """No target of the app applies to the environment (the app is not deployed there)."""


class PathEscapeError(HandoffError):
    """A path resolves outside the config repository (``..`` or a symlink)."""


class RenderError(HandoffError):
    """kustomize/helm/plain rendering failed."""


class ToolMissingError(HandoffError):
    """An external binary (kustomize, helm, kubeconform, git) is not installed."""


class GitError(HandoffError):
    """A git operation failed."""


class RevisionRefused(GitError):
    """A fetched revision refused for what it is (unsigned, a tree over the checkout caps): fetching it
    again gives the same answer, unlike a git server that did not answer."""


class ForgeError(HandoffError):
    """A forge (GitHub, GitLab, local) API call failed."""

    def __init__(self, message: str, *, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


class ForgeAuthError(ForgeError):
    """401/403 from a forge."""


class ForgeNotFound(ForgeError):
    """404 from a forge."""


class ForgeConflict(ForgeError):
    """409/422 'already exists' from a forge."""


class ForgeServerError(ForgeError):
    """5xx or rate limit after retries were exhausted."""


class RegistryError(HandoffError):
    """An OCI registry call failed or the tag does not exist."""


class PolicyError(HandoffError):
    """A policy file is invalid or fails to compile."""


class ReconcileError(HandoffError):
    """A reconcile pass failed."""

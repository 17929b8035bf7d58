"""handoff: the GitOps handoff from an application repository to its configuration repository."""

__version__ = "0.1.0"

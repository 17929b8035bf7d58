"""Live objects for the drift checks of one round, listed once per (identity, kind, namespace) for every
source instead of once per source: 500 sources with objects in one namespace make three list calls a
round, not 1500. Each list selects every object carrying the owner label and is split by its value.

Outside a round nothing is kept, so a lone ``reconcile()`` call always lists afresh. Within one, a source's
objects are as they were when the round first listed their kind: what changes during the round is seen
at the next one (a round is one pass over the due sources)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from handoff.kube.client import KubeClient
from handoff.reconciler.objects import OWNER_LABEL

_Key = tuple[str, str, str, str]  # identity, apiVersion, kind, namespace


class RoundLists:
    def __init__(self) -> None:
        self._lists: dict[_Key, dict[str, list[dict[str, Any]]]] | None = None

    @contextmanager
    def round(self) -> Iterator[None]:
        self._lists = {}
        try:
            yield
        finally:
            self._lists = None

    def owned(self, client: KubeClient, identity: str, *, api_version: str, kind: str, namespace: str,
              owner: str) -> list[dict[str, Any]]:
        """The objects of ``kind`` in ``namespace`` labelled as ``owner``'s, as ``client`` (whose
        identity is ``identity``: the reconciler's, or a source's impersonated ServiceAccount) lists them."""
        if self._lists is None:
            return list(client.list(api_version, kind, namespace=namespace,
                                    label_selector=f"{OWNER_LABEL}={owner}"))
        key = (identity, api_version, kind, namespace)
        by_owner = self._lists.get(key)
        if by_owner is None:
            by_owner = {}
            for item in client.list(api_version, kind, namespace=namespace, label_selector=OWNER_LABEL):
                value = str(((item.get("metadata") or {}).get("labels") or {}).get(OWNER_LABEL, ""))
                by_owner.setdefault(value, []).append(item)
            self._lists[key] = by_owner
        return by_owner.get(owner, [])

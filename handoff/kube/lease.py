"""Leader election with a coordination.k8s.io/v1 Lease (optimistic concurrency on resourceVersion),
and sharding of sources across replicas by a stable hash."""

from __future__ import annotations

import datetime
import logging
import threading
import zlib
from typing import Any

from handoff.kube.client import KubeClient, KubeError

log = logging.getLogger("handoff.kube.lease")
LEASE_API = "coordination.k8s.io/v1"
MAX_LEASE_SECONDS = 600  # a holder's leaseDurationSeconds is honoured up to this (no Lease held for days)


def _micro_time(when: datetime.datetime) -> str:
    return when.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _parse_time(text: str | None) -> datetime.datetime | None:
    if not text:
        return None
    try:
        return datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None


def shard_of(source: str, shards: int) -> int:
    """Stable across processes and Python versions (unlike ``hash()``)."""
    return zlib.crc32(source.encode()) % max(shards, 1)


class LeaderElector:
    """Holds the Lease while renewing it; ``is_leader`` turns false as soon as a renewal fails."""

    def __init__(self, client: KubeClient, namespace: str, name: str, identity: str,
                 lease_seconds: int = 15) -> None:
        self.client, self.namespace, self.name, self.identity = client, namespace, name, identity
        self.lease_seconds = lease_seconds
        self._leader = threading.Event()

    @property
    def is_leader(self) -> bool:
        return self._leader.is_set()

    def _spec(self, now: datetime.datetime, acquire: datetime.datetime, transitions: int) -> dict[str, Any]:
        return {"holderIdentity": self.identity, "leaseDurationSeconds": self.lease_seconds,
                "acquireTime": _micro_time(acquire), "renewTime": _micro_time(now),
                "leaseTransitions": transitions}

    def try_acquire_or_renew(self) -> bool:
        now = datetime.datetime.now(datetime.UTC)
        try:
            lease = self.client.get(LEASE_API, "Lease", self.name, self.namespace)
            if lease is None:
                self.client.create({"apiVersion": LEASE_API, "kind": "Lease",
                                    "metadata": {"name": self.name, "namespace": self.namespace},
                                    "spec": self._spec(now, now, 0)})
                return self._set(True)
            spec = lease.get("spec") or {}
            holder = spec.get("holderIdentity")
            renewed = _parse_time(spec.get("renewTime"))
            duration = min(int(spec.get("leaseDurationSeconds") or self.lease_seconds), MAX_LEASE_SECONDS)
            # no replica renews into the future: a renewTime beyond one lease duration from now was written
            # by someone else (a forged Lease must not freeze every replica out until 2099)
            forged = renewed is not None and renewed > now + datetime.timedelta(seconds=self.lease_seconds)
            expired = renewed is None or forged or now > renewed + datetime.timedelta(seconds=duration)
            if holder != self.identity and holder and not expired:
                return self._set(False)
            transitions = int(spec.get("leaseTransitions") or 0) + (holder != self.identity)
            acquired = _parse_time(spec.get("acquireTime")) if holder == self.identity else now
            lease["spec"] = self._spec(now, acquired or now, transitions)
            self.client.replace(lease)  # 409 if someone else wrote it first
            return self._set(True)
        except KubeError as e:
            log.info("lease %s/%s not held: %s", self.namespace, self.name, e)
            return self._set(False)

    def _set(self, leader: bool) -> bool:
        if leader != self._leader.is_set():
            log.warning("%s leadership of lease %s/%s", "acquired" if leader else "lost", self.namespace,
                        self.name)
        if leader:
            self._leader.set()
        else:
            self._leader.clear()
        return leader

    def run(self, stop: threading.Event) -> None:
        """Renew every third of the lease duration until ``stop``; then release the lease."""
        while not stop.is_set():
            self.try_acquire_or_renew()
            stop.wait(self.lease_seconds / 3)
        self.release()

    def release(self) -> None:
        if not self.is_leader:
            return
        self._set(False)
        try:
            lease = self.client.get(LEASE_API, "Lease", self.name, self.namespace)
            if lease and (lease.get("spec") or {}).get("holderIdentity") == self.identity:
                lease["spec"]["holderIdentity"] = None
                self.client.replace(lease)
        except KubeError:
            pass

"""Prometheus metrics and the probe endpoints, served by one small HTTP server."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TypeVar

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from prometheus_client.metrics import MetricWrapperBase

from handoff.errors import UsageError

_Metric = TypeVar("_Metric", bound=MetricWrapperBase)


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        # every metric labelled by source, with its label names: what :meth:`forget` removes a source from
        self._per_source: list[tuple[MetricWrapperBase, tuple[str, ...]]] = []
        per_source = self.per_source
        self.duration = per_source(Histogram(
            "handoff_reconcile_duration_seconds", "Duration of a reconcile pass", ["source"], registry=r,
            buckets=(0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300)))
        self.last_success = per_source(Gauge("handoff_reconcile_last_success_timestamp_seconds",
                                             "Unix time of the last successful pass", ["source"], registry=r))
        self.applied = per_source(Counter("handoff_objects_applied_total", "Objects applied", ["source"],
                                          registry=r))
        self.pruned = per_source(Counter("handoff_objects_pruned_total", "Objects pruned", ["source"],
                                         registry=r))
        self.drifted = per_source(Counter("handoff_objects_drifted_total", "Objects found drifted",
                                          ["source"], registry=r))
        self.errors = per_source(Counter("handoff_reconcile_errors_total", "Failed passes by error kind",
                                         ["source", "kind"], registry=r), "kind")
        self.leader = Gauge("handoff_leader", "1 when this replica holds the lease", registry=r)
        self.webhook_received = Counter("handoff_webhook_requests_total", "Webhook requests received",
                                        ["forge"], registry=r)
        self.webhook_triggered = per_source(Counter("handoff_webhook_triggered_total",
                                                    "Sources made due by a verified push webhook",
                                                    ["source"], registry=r))
        self.webhook_refused = Counter("handoff_webhook_refused_total", "Webhook requests refused",
                                       ["reason"], registry=r)
        self.ready = threading.Event()
        self.alive = threading.Event()
        self.alive.set()

    def per_source(self, metric: _Metric, *more_labels: str) -> _Metric:
        """Register ``metric``, labelled ``source`` then ``more_labels``, as one :meth:`forget` clears."""
        self._per_source.append((metric, ("source", *more_labels)))
        return metric

    def forget(self, source: str) -> None:
        """Remove every series of ``source`` (no longer served): a deleted Source leaves no gauge that only
        ages, and the series do not grow with Sources created and deleted."""
        for metric, names in self._per_source:
            series = {tuple(sample.labels[n] for n in names)
                      for family in metric.collect() for sample in family.samples
                      if sample.labels.get("source") == source}
            for labels in series:
                metric.remove(*labels)

    def exposition(self) -> bytes:
        return bytes(generate_latest(self.registry))


def _handler(metrics: Metrics) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            if self.path == "/metrics":
                self._send(200, metrics.exposition(), CONTENT_TYPE_LATEST)
            elif self.path == "/healthz":
                ok = metrics.alive.is_set()
                self._send(200 if ok else 500, b"ok\n" if ok else b"stuck\n")
            elif self.path == "/readyz":
                ok = metrics.ready.is_set()
                self._send(200 if ok else 503, b"ok\n" if ok else b"not ready\n")
            else:
                self._send(404, b"not found\n")

        def _send(self, code: int, body: bytes, ctype: str = "text/plain; charset=utf-8") -> None:
            self.send_response(code)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            return  # probes are not logged

    return Handler


def parse_addr(addr: str, flag: str = "--metrics-addr") -> tuple[str, int]:
    host, _, port = addr.rpartition(":")
    if not port.isdigit() or int(port) > 65535:
        raise UsageError(f"invalid {flag} {addr!r} (use HOST:PORT or :PORT, a port up to 65535)")
    return host or "0.0.0.0", int(port)  # noqa: S104 - the metrics port must be reachable in-cluster


def serve(metrics: Metrics, addr: str) -> ThreadingHTTPServer:
    """Start the server in a daemon thread; ``server.server_address`` gives the bound port."""
    try:
        server = ThreadingHTTPServer(parse_addr(addr), _handler(metrics))
    except OSError as e:
        raise UsageError(f"cannot listen on {addr}: {e.strerror}") from e
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, name="metrics", daemon=True).start()
    return server

import urllib.error
import urllib.request

import pytest

from handoff.errors import UsageError
from handoff.reconciler.metrics import Metrics, serve


def fetch(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=5) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


def test_metrics_and_probes_on_one_port() -> None:
    metrics = Metrics()
    server = serve(metrics, "127.0.0.1:0")
    try:
        base = f"http://127.0.0.1:{server.server_address[1]}"
        assert fetch(base + "/healthz")[0] == 200
        assert fetch(base + "/readyz")[0] == 503
        metrics.ready.set()
        assert fetch(base + "/readyz")[0] == 200
        metrics.duration.labels("web").observe(0.3)
        metrics.errors.labels("web", "git").inc()
        status, body = fetch(base + "/metrics")
        assert status == 200
        assert 'handoff_reconcile_duration_seconds_count{source="web"} 1.0' in body
        assert 'handoff_reconcile_errors_total{kind="git",source="web"} 1.0' in body
        assert fetch(base + "/nope")[0] == 404
    finally:
        server.shutdown()


def test_bad_address_is_a_usage_error() -> None:
    with pytest.raises(UsageError, match="invalid --metrics-addr"):
        serve(Metrics(), "localhost:http")


def test_a_port_past_65535_is_a_usage_error() -> None:
    """Not an OverflowError from bind (exit 3): the address is refused before the server starts."""
    with pytest.raises(UsageError, match="invalid --metrics-addr ':99999'"):
        serve(Metrics(), ":99999")

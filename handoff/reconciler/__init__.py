"""The in-cluster reconciler: pull → render → validate → server-side apply → prune → drift → status.

Only this package talks to the Kubernetes API (raw REST in ``kube.py``)."""

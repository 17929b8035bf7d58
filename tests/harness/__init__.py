"""Real components for tests: tool lookup, kube-apiserver + etcd, an OCI registry and a smart-HTTP git server.

Fixtures are registered for the whole suite by ``tests/conftest.py``; see ``docs/testing.md``.
"""

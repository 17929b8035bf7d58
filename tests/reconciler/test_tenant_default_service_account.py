"""A tenant's ``defaultServiceAccount`` (as Flux's ``--default-service-account``): a Source object that names
no ``serviceAccountName`` impersonates that ServiceAccount of its namespace, so a Source created from
inside the namespace (by a workload the tenant deployed, say) never acts with the reconciler's own
identity (atk18f's note: a child Source widening its parent's). Real kube-apiserver + etcd and git server."""

from __future__ import annotations

from typing import Any

import pytest

from handoff.errors import ConfigError
from handoff.reconciler.config import Settings, parse_tenants
from handoff.reconciler.loop import Reconciler
from handoff.reconciler.sourcecrd import API_VERSION, KIND, parse
from handoff.reconciler.sourceobjects import SourceObjects
from handoff.reconciler.tenancy import default_service_account

from .cluster import Cluster
from .test_source_crd_live import cluster, source_object  # noqa: F401 - fixture

RBAC = "rbac.authorization.k8s.io/v1"


def _tenants(account: str | None = "deployer") -> Any:
    entry: dict[str, Any] = {"namespaces": ["app-*"]}
    if account is not None:
        entry["defaultServiceAccount"] = account
    return parse_tenants([entry])


def _source(namespace: str = "app-1", **spec: Any) -> dict[str, Any]:
    return {"apiVersion": API_VERSION, "kind": KIND, "metadata": {"name": "web", "namespace": namespace},
            "spec": {"url": "https://git.example/config.git", **spec}}


def test_a_source_naming_no_account_gets_its_tenants_default_and_one_naming_its_own_keeps_it() -> None:
    tenants = _tenants()
    assert default_service_account("app-1", tenants) == "deployer"
    assert default_service_account("other", tenants) is None
    assert parse(_source(), default_service_account="deployer",
                 secrets_needed=False).source.service_account == "app-1/deployer"
    assert parse(_source(serviceAccountName="builder"), default_service_account="deployer",
                 secrets_needed=False).source.service_account == "app-1/builder"
    assert default_service_account("app-1", _tenants(None)) is None


@pytest.mark.parametrize("account", ["", "Deployer", "a/b", 7])
def test_a_default_account_that_is_not_a_service_account_name_is_refused_naming_the_key(account: Any) -> None:
    with pytest.raises(ConfigError) as e:
        _tenants(account)
    assert e.value.key == "tenants[0].defaultServiceAccount"


@pytest.mark.tools
@pytest.mark.slow
def test_a_source_object_naming_no_account_is_bounded_by_the_tenants_default_accounts_rbac(
        cluster: Cluster) -> None:  # noqa: F811
    c = cluster
    # the tenant's default ServiceAccount may only read ConfigMaps: the Source's apply must be refused as it
    c.client.apply({"apiVersion": "v1", "kind": "ServiceAccount",
                    "metadata": {"name": "deployer", "namespace": c.target_ns}})
    c.client.apply({"apiVersion": RBAC, "kind": "Role", "metadata": {"name": "deployer", "namespace": c.target_ns},
                    "rules": [{"apiGroups": [""], "resources": ["configmaps"], "verbs": ["get", "list"]}]})
    c.client.apply({"apiVersion": RBAC, "kind": "RoleBinding",
                    "metadata": {"name": "deployer", "namespace": c.target_ns},
                    "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "deployer"},
                    "subjects": [{"kind": "ServiceAccount", "name": "deployer", "namespace": c.target_ns}]})
    rec = Reconciler(Settings(sources=(), namespace=c.control_ns, leader_election=False), c.client, c.workdir)
    objects = SourceObjects(rec, namespace=c.target_ns, allow_private_hosts=True,
                            tenants=parse_tenants([{"namespaces": [c.target_ns],
                                                    "defaultServiceAccount": "deployer"}]))
    c.client.create(source_object(c))
    objects.sources_watch.relist()
    rec.drain()
    results = rec.run_once()
    assert len(results) == 1 and not results[0].ok, results
    assert f"system:serviceaccount:{c.target_ns}:deployer" in results[0].message, results[0].message
    assert c.get("v1", "ConfigMap", "one") is None  # nothing applied with the reconciler's identity

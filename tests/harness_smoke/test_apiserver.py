"""The test apiserver serves the real Kubernetes API to the Python client, with RBAC enforced."""

import kubernetes
import pytest

from tests.harness.apiserver import ApiServer

pytestmark = [pytest.mark.tools, pytest.mark.slow]


def _core_api(apiserver: ApiServer) -> kubernetes.client.CoreV1Api:
    client = kubernetes.config.new_client_from_config(config_file=str(apiserver.kubeconfig))  # type: ignore[no-untyped-call]
    return kubernetes.client.CoreV1Api(client)


def test_configmap_round_trip_through_kubeconfig(apiserver: ApiServer) -> None:
    api = _core_api(apiserver)
    body = kubernetes.client.V1ConfigMap(
        metadata=kubernetes.client.V1ObjectMeta(name="smoke", namespace="default"), data={"greeting": "hello"}
    )
    api.create_namespaced_config_map("default", body)

    fetched = api.read_namespaced_config_map("smoke", "default")

    assert fetched.data == {"greeting": "hello"}
    assert fetched.metadata is not None and fetched.metadata.uid


def test_rbac_denies_an_unknown_service_account_token(apiserver: ApiServer) -> None:
    configuration = kubernetes.client.Configuration()
    configuration.host = apiserver.url
    configuration.ssl_ca_cert = str(apiserver.ca_file)
    configuration.api_key = {"authorization": "Bearer not-a-valid-token"}
    api = kubernetes.client.CoreV1Api(kubernetes.client.ApiClient(configuration))

    with pytest.raises(kubernetes.client.ApiException) as denied:
        api.list_namespaced_config_map("default")

    assert denied.value.status == 401


def test_data_survives_an_apiserver_restart(apiserver: ApiServer) -> None:
    api = _core_api(apiserver)
    api.create_namespace(
        kubernetes.client.V1Namespace(metadata=kubernetes.client.V1ObjectMeta(name="survivor"))
    )

    apiserver.restart()

    survivor = _core_api(apiserver).read_namespace("survivor")
    assert survivor.metadata is not None and survivor.metadata.name == "survivor"

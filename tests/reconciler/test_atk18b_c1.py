"""atk18b: f18a refuses control characters in the free-text spec fields (``_PRINTABLE`` in sourcecrd.py,
the schema's pattern and the parser's check), but only C0 and DEL: the C1 controls U+0080..U+009F (CSI
0x9b, NEL 0x85, which Python's ``str.splitlines`` breaks a line at) are stored and parsed, though
``status.printable`` itself counts them as terminal controls. Real kube-apiserver + etcd."""

from __future__ import annotations

import pytest

from handoff.kube.client import KubeError

from .cluster import Cluster
from .test_source_crd_live import cluster, source_object  # noqa: F401 - fixture

pytestmark = [pytest.mark.tools, pytest.mark.slow]


@pytest.mark.parametrize("field,value", [("path", "app\x9b2J"), ("env", "prod\x85x"),
                                         ("release", "r\x9b"), ("values", ["v\x85.yaml"])],
                         ids=["path-csi", "env-nel", "release-csi", "values-nel"])
def test_c1_control_characters_are_refused_in_free_text_spec_fields(
        cluster: Cluster, field: str, value: object) -> None:  # noqa: F811
    c = cluster
    with pytest.raises(KubeError) as refused:
        c.client.create(source_object(c, f"c1-{field}", **{field: value}))
    assert refused.value.status == 422 and f"spec.{field}" in str(refused.value)

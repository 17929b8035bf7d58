from handoff.reconciler.config import PruneSettings
from handoff.reconciler.inventory import decode, encode
from handoff.reconciler.prune import plan
from handoff.report.model import ObjectRef


def cm(name: str) -> ObjectRef:
    return ObjectRef("v1", "ConfigMap", name, "apps")


def test_deletes_only_objects_gone_from_the_render() -> None:
    previous = [cm("a"), cm("b"), cm("c")]
    result = plan(previous, [cm("a"), cm("c"), cm("new")], PruneSettings())
    assert result.delete == (cm("b"),) and not result.refused


def test_refuses_deleting_more_than_half_of_a_large_inventory() -> None:
    previous = [cm(str(i)) for i in range(10)]
    result = plan(previous, previous[:4], PruneSettings())
    assert result.delete == ()
    assert "refusing to prune 6 of 10 objects" in result.refused


def test_half_of_a_large_inventory_is_an_ordinary_removal() -> None:
    previous = [cm(str(i)) for i in range(10)]
    assert len(plan(previous, previous[:5], PruneSettings()).delete) == 5


def test_small_inventories_may_shrink_freely() -> None:
    previous = [cm(str(i)) for i in range(9)]
    assert len(plan(previous, previous[:1], PruneSettings()).delete) == 8


def test_cap_is_configurable() -> None:
    previous = [cm(str(i)) for i in range(10)]
    assert len(plan(previous, previous[:1], PruneSettings(max_fraction=1.0)).delete) == 9


def test_namespaces_and_crds_are_kept_unless_enabled() -> None:
    ns = ObjectRef("v1", "Namespace", "apps")
    crd = ObjectRef("apiextensions.k8s.io/v1", "CustomResourceDefinition", "widgets.example.com")
    result = plan([ns, crd, cm("a")], [], PruneSettings())
    assert result.delete == (cm("a"),)
    assert {r for r, _ in result.kept} == {ns, crd}
    allowed = plan([ns, crd, cm("a")], [], PruneSettings(allow_namespaces=True, allow_crds=True))
    assert allowed.delete == (cm("a"), crd, ns)  # reverse apply order: workloads, then CRDs, Namespaces last


def test_a_changed_api_version_is_the_same_object_never_a_prune_candidate() -> None:
    hpa_v1 = ObjectRef("autoscaling/v1", "HorizontalPodAutoscaler", "web", "apps")
    hpa_v2 = ObjectRef("autoscaling/v2", "HorizontalPodAutoscaler", "web", "apps")
    db_old = ObjectRef("example.com/v1alpha1", "Database", "orders", "apps")
    db_new = ObjectRef("example.com/v1", "Database", "orders", "apps")
    result = plan([hpa_v1, db_old, cm("a")], [hpa_v2, db_new, cm("a")], PruneSettings())
    assert result.delete == () and result.kept == ()
    # a different group is a different object, whatever the kind is called
    other = ObjectRef("other.example.com/v1", "Database", "orders", "apps")
    assert plan([other], [db_new], PruneSettings()).delete == (other,)


def test_an_old_inventory_listing_one_object_at_two_versions_reads_as_one_entry() -> None:
    text = ("autoscaling/v1 HorizontalPodAutoscaler apps web\n"
            "autoscaling/v2 HorizontalPodAutoscaler apps web\nv1 ConfigMap apps a\n")
    refs = decode(text)
    assert sorted(str(r) for r in refs) == ["ConfigMap/apps/a", "HorizontalPodAutoscaler/apps/web"]
    assert set(decode(encode(refs))) == set(refs) and len(refs) == 2


def test_the_reconcilers_own_objects_are_never_pruned() -> None:
    own = ObjectRef("coordination.k8s.io/v1", "Lease", "handoff-reconciler", "handoff-system")
    result = plan([own, cm("a")], [cm("a")], PruneSettings(), protected=[own])
    assert result.delete == () and result.kept == ((own, "the reconciler's own object: never pruned"),)

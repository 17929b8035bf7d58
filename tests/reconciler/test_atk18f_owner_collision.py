"""atk18f: a Source's owner label, inventory and status ConfigMap names come from ``owner_value``:
``NAMESPACE.NAME``, cut past 63 characters to a prefix and ``-`` and ten hex digits of a hash. A short
name can spell exactly that cut form: Source ``team-a/<that suffix>`` (56 characters, a valid name) then has
the same owner label and the same inventory and status ConfigMaps as the long-named ``team-a/web-aaa…``, so
its passes and its deletion prune the other's objects as its own. Whoever may create a Source in the
namespace (a user, or a repo that renders Source objects) can aim at a long-named one. No cluster needed:
the names alone collide."""

from __future__ import annotations

from handoff.reconciler import inventory, status
from handoff.reconciler.objects import owner_value


def test_two_source_objects_never_share_an_owner_label_or_inventory() -> None:
    long_name = "team-a/web-" + "a" * 70
    cut = owner_value(long_name)
    crafted = "team-a/" + cut.removeprefix("team-a.")
    assert len(crafted.split("/")[1]) <= 253 and crafted != long_name
    shared = [what for what, f in (("owner label", owner_value), ("inventory", inventory.inventory_name),
                                   ("status ConfigMap", status.status_name)) if f(long_name) == f(crafted)]
    assert not shared, \
        (f"Source objects {long_name!r} and {crafted!r} are two objects but share their {', '.join(shared)} "
         f"({cut!r}): one prunes and reports as the other")


def test_only_a_name_shaped_like_a_cut_one_changes_its_owner_value() -> None:
    # f18g: objects labelled by an older version stay recognised: every other name keeps its value
    assert owner_value("web") == "web" and owner_value("team-a/web-0123") == "team-a.web-0123"
    assert owner_value("team-a/" + "b" * 50) == "team-a." + "b" * 50
    shaped = owner_value("team-a/app-0123456789")
    assert shaped != "team-a.app-0123456789" and shaped.startswith("team-a.app-0123456789-")
    assert len(shaped) <= 63 and shaped[-1].isalnum()

"""atk13f: a builtin ConfigMapGenerator *plugin config* naming an env file is not held to the generator
entry budget.

Generator inputs are counted against ``MAX_KUSTOMIZE_ENTRIES`` (10,000 keys over a kustomization tree:
kustomize's time and memory grow superlinearly in one ConfigMap's keys). For the kustomization's own
``configMapGenerator[0].envs[0]`` each env-file line counts (a 12,000-line file is refused: "entries over
10000 … kustomize would take minutes on them"). For a plugin config the key is ``envs[0]``, and
``handoff/render/inputs.py`` ``_reference`` counts lines only when ``".env" in key``: the whole file counts
as one entry. Reached through a generator *directory* (``test_atk13f_generator_directory_git_dir.py``) it is
not counted at all. What should hold: whatever spelling names a generator input, it is counted the same.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from handoff.errors import HandoffError
from handoff.render import render_path
from tests.harness.tools import require_tool

pytestmark = pytest.mark.tools

CM = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: web\ndata:\n  a: b\n"

ENV_GENERATOR = "apiVersion: builtin\nkind: ConfigMapGenerator\nmetadata:\n  name: wide\nenvs: [wide.env]\n"


@pytest.mark.parametrize("layout", ["config file", "config directory"])
def test_an_env_file_named_by_a_generator_plugin_config_is_held_to_the_entry_budget(tmp_path: Path,
                                                                                   layout: str) -> None:
    require_tool("kustomize")
    repo = tmp_path / "repo"
    files = {"cm.yaml": CM, "wide.env": "".join(f"k{i}=v\n" for i in range(12_000))}
    if layout == "config file":
        files |= {"kustomization.yaml": "resources: [cm.yaml]\ngenerators: [gen.yaml]\n", "gen.yaml": ENV_GENERATOR}
    else:
        files |= {"kustomization.yaml": "resources: [cm.yaml]\ngenerators: [gens]\n",
                  "gens/kustomization.yaml": "resources: [gen.yaml]\n", "gens/gen.yaml": ENV_GENERATOR}
    for name, text in files.items():
        (repo / name).parent.mkdir(parents=True, exist_ok=True)
        (repo / name).write_text(text, encoding="utf-8")
    with pytest.raises(HandoffError) as refused:
        render_path(repo, repo=repo, kind="kustomize")
    assert "10000" in str(refused.value) and "\n" not in str(refused.value), (
        f"a 12,000-entry env file named by a generator {layout} was not refused by the entry budget: "
        f"{refused.value}")

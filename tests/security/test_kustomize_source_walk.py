"""The kustomize source index walks each (kustomization, naming) once: the atk13c three-file cycle
(``app: [ka, kb]``, ``ka`` and ``kb`` each ``[../ka, ../kb]``) costs three parses, not 100,000."""

from __future__ import annotations

from pathlib import Path

from handoff.render.kustomize import _Naming, _SourceIndex


def test_a_kustomization_cycle_is_parsed_once_per_file(tmp_path: Path) -> None:
    for name, text in {"app/kustomization.yaml": "resources: [../ka, ../kb]\n",
                       "ka/kustomization.yaml": "resources: [../ka, ../kb]\n",
                       "kb/kustomization.yaml": "resources: [../ka, ../kb]\n"}.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    index = _SourceIndex(tmp_path)
    index.add_tree(tmp_path / "app", _Naming())
    assert sorted(d.name for d, _ in index.visited) == ["app", "ka", "kb"]

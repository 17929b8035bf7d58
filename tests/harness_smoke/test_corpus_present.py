"""The shared real-world corpus must be where the tests look for it: a missing corpus would quietly
parametrize the corpus tests down to nothing."""

from tests.harness.paths import CORPUS


def test_corpus_is_beside_the_checkout() -> None:
    assert CORPUS.is_dir(), f"expected the shared corpus at {CORPUS} (../shared/corpus beside the checkout)"
    assert len(list(CORPUS.rglob("*.y*ml"))) > 50

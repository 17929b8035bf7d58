"""Fixtures shared by the surface tests."""

from __future__ import annotations

import pytest

from .image import BuiltImage, build_image, require_image_tools


@pytest.fixture(scope="session")
def handoff_image() -> BuiltImage:
    """The Dockerfile built once per session (tools/build-image.sh); every image test reuses it."""
    require_image_tools()
    return build_image()

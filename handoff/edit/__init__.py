"""Locate image fields in YAML files and splice new values in byte-exactly."""

from handoff.edit.editor import FileEditor
from handoff.edit.model import Change

__all__ = ["Change", "FileEditor"]

"""Errors the app shows to the user.

``app.core`` turns the codec's exceptions into these, so the UI can catch one family of errors without importing
``codec`` (the UI never imports ``codec`` or ``torch``).
"""

from __future__ import annotations


class EarBenchError(Exception):
    """An error caused by the user's input or environment; its message is shown to the user as it is."""


class ClipLoadError(EarBenchError):
    """An audio file that cannot be opened as a clip."""


class ModelLoadError(EarBenchError):
    """A codec model that cannot be found or loaded."""


class RenderError(EarBenchError):
    """A reconstruction that could not be computed."""


class CancelledError(EarBenchError):
    """A background job stopped early because it was cancelled (not an error to show)."""


class DesignError(EarBenchError):
    """A listening-test design (YAML) that is malformed or breaks a rule; the message names the offending field."""


class StorageError(EarBenchError):
    """A ratings database that cannot be opened, migrated or written."""

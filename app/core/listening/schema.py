"""Small validators for the listening-test design schema: each failure is a :class:`DesignError` naming the field.

``where`` arguments are dotted field paths as the user wrote them (``items[2].conditions.enc_6``), so a message
points straight at the line to fix.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from pathlib import Path, PurePosixPath, PureWindowsPath
from typing import Any

from app.core.errors import DesignError

ID_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
"""Ids of tests, items and conditions: letters, digits, ``_ . -``; at most 64 characters."""


def mapping(value: Any, where: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise DesignError(f"{where}: expected a mapping (key: value lines), got {_type_name(value)}")
    for key in value:
        if not isinstance(key, str):
            raise DesignError(f"{where}: keys must be text, got {key!r}")
    return value


def keys(value: Mapping[str, Any], where: str, required: Iterable[str], optional: Iterable[str]) -> None:
    """Reject unknown keys and report the first missing required one."""
    required = tuple(required)
    allowed = set(required) | set(optional)
    unknown = sorted(k for k in value if k not in allowed)
    if unknown:
        allowed_text = ", ".join(sorted(allowed)) or "none"
        raise DesignError(f"{_join(where, unknown[0])}: unknown key (allowed here: {allowed_text})")
    for key in required:
        if key not in value:
            raise DesignError(f"{_join(where, key)}: missing (required)")


def text(value: Any, where: str, *, allow_empty: bool = False) -> str:
    if not isinstance(value, str):
        raise DesignError(f"{where}: expected text, got {_type_name(value)}")
    if not allow_empty and not value.strip():
        raise DesignError(f"{where}: must not be empty")
    return value


def identifier(value: Any, where: str) -> str:
    value = text(value, where)
    if not ID_PATTERN.match(value):
        raise DesignError(f"{where}: {value!r} is not a valid id (letters, digits, '_', '.', '-'; at most 64)")
    return value


def boolean(value: Any, where: str) -> bool:
    if not isinstance(value, bool):
        raise DesignError(f"{where}: expected true or false, got {_type_name(value)}")
    return value


def integer(value: Any, where: str, *, minimum: int, maximum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise DesignError(f"{where}: expected a whole number, got {_type_name(value)}")
    if not minimum <= value <= maximum:
        raise DesignError(f"{where}: {value} is out of range [{minimum}, {maximum}]")
    return value


def number(value: Any, where: str, *, minimum: float) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise DesignError(f"{where}: expected a number, got {_type_name(value)}")
    if not value == value or value < minimum or value == float("inf"):  # NaN fails the first test
        raise DesignError(f"{where}: {value} must be a finite number ≥ {minimum:g}")
    return float(value)


def audio_path(value: Any, where: str, base_dir: Path) -> Path:
    """A relative path to an existing file inside ``base_dir`` (the design's folder), as an absolute Path.

    Rejected: absolute paths (POSIX or Windows, drive letters, UNC), ``..`` parts, and paths whose resolved target
    (after symlinks) lies outside ``base_dir``: a design can only point at files shipped with it.
    """
    raw = text(value, where)
    windows = PureWindowsPath(raw)
    if raw.startswith(("/", "\\")) or windows.drive or windows.is_absolute() or PurePosixPath(raw).is_absolute():
        raise DesignError(f"{where}: {raw!r} must be relative to the design file's folder, not absolute")
    parts = PurePosixPath(raw.replace("\\", "/")).parts
    if ".." in parts:
        raise DesignError(f"{where}: {raw!r} must not leave the design file's folder ('..')")
    path = base_dir.joinpath(*parts)
    root = base_dir.resolve()
    resolved = path.resolve()
    if resolved != root and root not in resolved.parents:
        raise DesignError(f"{where}: {raw!r} points outside the design file's folder (via a link)")
    if not resolved.is_file():
        raise DesignError(f"{where}: file {raw!r} not found next to the design ({path})")
    return path


def _join(where: str, key: str) -> str:
    return f"{where}.{key}" if where else key


def _type_name(value: Any) -> str:
    if value is None:
        return "nothing (null)"
    names = {bool: "true/false", int: "a number", float: "a number", str: "text", list: "a list", dict: "a mapping"}
    return names.get(type(value), type(value).__name__)

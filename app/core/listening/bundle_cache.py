"""Where opened bundles live: one checked, unpacked folder per bundle content under the user data dir.

Opening the same bundle again reuses its folder, so a listener who closes the app and opens the bundle again
resumes the same test with the same stimuli (their hashes are part of the session's record).
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import platformdirs

from app.core.listening.bundle import DESIGN_NAME, MANIFEST_NAME, BundleError, open_bundle, sha256_file
from app.core.listening.design import TestDesign
from app.core.listening.design_parse import load_design


def default_bundles_dir() -> Path:
    """``<user data dir>/earbench/bundles``."""
    return Path(platformdirs.user_data_dir("earbench", appauthor=False)) / "bundles"


def _content_id(path: Path) -> str:
    if path.is_dir():
        manifest = path / MANIFEST_NAME
        if not manifest.is_file():
            raise BundleError(f"{path}: not a bundle folder (no {MANIFEST_NAME})")
        return hashlib.sha256(manifest.read_bytes()).hexdigest()
    if not path.is_file():
        raise BundleError(f"{path}: no such bundle (expected a .zip file or a folder)")
    return sha256_file(path)


def open_bundle_cached(path: str | Path, bundles_dir: str | Path) -> TestDesign:
    """Open ``path`` (.zip or folder) into ``bundles_dir/<name>-<content hash>``; reuse that folder if it exists.

    The first opening runs every check of :func:`~app.core.listening.bundle.open_bundle`; nothing is written
    outside the bundle's own folder. Raises :class:`BundleError`.
    """
    path = Path(path)
    stem = re.sub(r"[^A-Za-z0-9_.-]+", "_", path.stem)[:40] or "bundle"
    target = Path(bundles_dir) / f"{stem}-{_content_id(path)[:16]}"
    if (target / DESIGN_NAME).is_file():
        return load_design(target / DESIGN_NAME)
    try:
        return open_bundle(path, target)
    except BundleError:
        if target.is_dir() and not any(target.iterdir()):
            target.rmdir()  # leave no empty folder behind a refused bundle
        raise

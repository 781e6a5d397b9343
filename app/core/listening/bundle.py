"""Test bundles: a listening test as a self-contained folder or .zip that another EarBench opens.

Layout (format version 1)::

    manifest.json     {"format": "earbench-listening-bundle", "format_version": 1, "design": "design.yaml",
                       "test_id": ..., "design_hash": ..., "files": {"design.yaml": {"sha256": ..., "bytes": ...},
                       "stimuli/<path in the design folder>": {...}, ...}}
    design.yaml       the design, its audio paths rewritten to stimuli/...
    stimuli/...       the design's audio files (already rendered and loudness-aligned); MUSHRA anchors are not
                      shipped: they are rendered from the reference when a session starts (see design.py)

Opening a bundle is hostile-input handling: member names are checked (no absolute paths, drive letters,
backslashes, ``..``, links or special files), sizes are capped before and while reading, every file must be listed
in the manifest with the right SHA-256 and nothing else may be present, stimuli must be audio files (suffix and
magic bytes), and the design is read with ``yaml.safe_load`` plus the design schema. Everything is first written to
a staging folder *inside* ``extract_to`` and moved into place only when all checks pass; nothing from the bundle is
ever executed.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import stat
import tempfile
import zipfile
from pathlib import Path, PurePosixPath, PureWindowsPath
from typing import Any, BinaryIO

import yaml

from app.core.errors import DesignError, EarBenchError
from app.core.listening.design import TestDesign
from app.core.listening.design_parse import load_design

BUNDLE_FORMAT = "earbench-listening-bundle"
BUNDLE_FORMAT_VERSION = 1
MANIFEST_NAME = "manifest.json"
DESIGN_NAME = "design.yaml"
STIMULI_DIR = "stimuli"
MAX_TOTAL_BYTES = 4 << 30  # 4 GiB of stimuli is far beyond any listening test
MAX_MEMBERS = 10_000
MAX_MANIFEST_BYTES = 4 << 20
_CHUNK = 1 << 20
# Suffix -> accepted leading bytes; checked so that a renamed executable or script is not accepted as a stimulus.
AUDIO_MAGIC: dict[str, tuple[bytes, ...]] = {
    ".wav": (b"RIFF", b"RF64", b"BW64"),
    ".flac": (b"fLaC",),
    ".ogg": (b"OggS",),
    ".opus": (b"OggS",),
    ".aif": (b"FORM",),
    ".aiff": (b"FORM",),
    ".mp3": (b"ID3", b"\xff\xfb", b"\xff\xf3", b"\xff\xf2"),
}


class BundleError(EarBenchError):
    """A bundle that cannot be written or is refused when opened; the message says what and why."""


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


# --- writing ------------------------------------------------------------------------------------------------------
def _bundle_files(design: TestDesign) -> tuple[dict[str, Any], dict[str, Path]]:
    """The rewritten design mapping and bundle path -> source file."""
    mapping = design.to_mapping()
    sources: dict[str, Path] = {}

    def bundled(path: Path) -> str:
        name = f"{STIMULI_DIR}/{design.relative(path)}"
        sources[name] = path
        return name

    for entry, item in zip(mapping["items"], design.items, strict=True):
        entry["reference"] = bundled(item.reference)
        entry["conditions"] = {cid: bundled(p) for cid, p in item.conditions.items()}
    return mapping, sources


def export_bundle(design: TestDesign, out: str | Path) -> Path:
    """Write ``design`` and its stimuli as a bundle: a .zip when ``out`` ends in .zip, else a new (or empty) folder."""
    out = Path(out)
    mapping, sources = _bundle_files(design)
    design_bytes = yaml.safe_dump(mapping, sort_keys=False, allow_unicode=True).encode("utf-8")
    files = {DESIGN_NAME: {"sha256": hashlib.sha256(design_bytes).hexdigest(), "bytes": len(design_bytes)}}
    for name, src in sources.items():
        files[name] = {"sha256": sha256_file(src), "bytes": src.stat().st_size}
    manifest = {"format": BUNDLE_FORMAT, "format_version": BUNDLE_FORMAT_VERSION, "design": DESIGN_NAME,
                "test_id": design.id, "design_hash": design.design_hash(), "files": files}
    manifest_bytes = (json.dumps(manifest, indent=2, ensure_ascii=False) + "\n").encode("utf-8")
    if out.suffix.lower() == ".zip":
        out.parent.mkdir(parents=True, exist_ok=True)
        with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as zf:
            zf.writestr(MANIFEST_NAME, manifest_bytes)
            zf.writestr(DESIGN_NAME, design_bytes)
            for name, src in sources.items():
                zf.write(src, name)
        return out
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise BundleError(f"{out}: the bundle folder must be new or empty")
    out.mkdir(parents=True, exist_ok=True)
    (out / MANIFEST_NAME).write_bytes(manifest_bytes)
    (out / DESIGN_NAME).write_bytes(design_bytes)
    for name, src in sources.items():
        target = out.joinpath(*PurePosixPath(name).parts)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(src, target)
    return out


# --- opening ------------------------------------------------------------------------------------------------------
def safe_relative_name(name: str) -> PurePosixPath:
    """A member name as a relative POSIX path, or :class:`BundleError` if it could point anywhere else."""
    if not name or "\x00" in name or "\\" in name or ":" in name:
        raise BundleError(f"bundle member {name!r}: unsafe name (empty, NUL, backslash or drive/colon)")
    if name.startswith("/") or PureWindowsPath(name).drive or PurePosixPath(name).is_absolute():
        raise BundleError(f"bundle member {name!r}: absolute paths are not allowed")
    path = PurePosixPath(name)
    if any(part == ".." for part in path.parts) or not path.parts:
        raise BundleError(f"bundle member {name!r}: '..' (a path leaving the bundle) is not allowed")
    return path


def _target(root: Path, rel: PurePosixPath) -> Path:
    target = root.joinpath(*rel.parts)
    resolved_root = root.resolve()
    if resolved_root not in target.resolve().parents:
        raise BundleError(f"bundle member {rel}: would be written outside the extraction folder")
    return target


def _copy_capped(src: BinaryIO, target: Path, budget: list[int], name: str) -> None:
    """Copy a stream, counting real bytes against the shared budget (headers may lie)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    with target.open("xb") as dst:
        while chunk := src.read(_CHUNK):
            budget[0] -= len(chunk)
            if budget[0] < 0:
                raise BundleError(f"bundle member {name}: the bundle is larger than {MAX_TOTAL_BYTES} bytes")
            dst.write(chunk)


def _extract_zip(path: Path, staging: Path, max_total_bytes: int) -> None:
    try:
        zf = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as exc:
        raise BundleError(f"{path}: not a readable zip file ({exc})") from exc
    with zf:
        infos = zf.infolist()
        if len(infos) > MAX_MEMBERS:
            raise BundleError(f"{path}: more than {MAX_MEMBERS} members")
        seen: set[str] = set()
        for info in infos:  # check every name and size before writing anything
            rel = safe_relative_name(info.filename.rstrip("/") if info.is_dir() else info.filename)
            mode = info.external_attr >> 16
            if stat.S_ISLNK(mode) or (stat.S_IFMT(mode) not in (0, stat.S_IFREG, stat.S_IFDIR)):
                raise BundleError(f"bundle member {info.filename!r}: links and special files are not allowed")
            if info.flag_bits & 0x1:
                raise BundleError(f"bundle member {info.filename!r}: encrypted members are not supported")
            if str(rel).lower() in seen:
                raise BundleError(f"bundle member {info.filename!r}: duplicate name")
            seen.add(str(rel).lower())
            _target(staging, rel)
        if sum(i.file_size for i in infos) > max_total_bytes:
            raise BundleError(f"{path}: unpacked size exceeds the limit of {max_total_bytes} bytes")
        budget = [max_total_bytes]
        for info in infos:
            if info.is_dir():
                continue
            rel = safe_relative_name(info.filename)
            try:
                with zf.open(info) as src:
                    _copy_capped(src, _target(staging, rel), budget, info.filename)
            except (zipfile.BadZipFile, OSError, EOFError) as exc:
                raise BundleError(f"bundle member {info.filename!r}: corrupt ({exc})") from exc


def _copy_folder(source: Path, staging: Path, max_total_bytes: int) -> None:
    budget = [max_total_bytes]
    count = 0

    def walk(folder: Path, rel: PurePosixPath) -> None:
        nonlocal count
        for entry in sorted(os.scandir(folder), key=lambda e: e.name):
            name = (rel / entry.name).as_posix()
            member = safe_relative_name(name)
            count += 1
            if count > MAX_MEMBERS:
                raise BundleError(f"{source}: more than {MAX_MEMBERS} files")
            if entry.is_symlink():
                raise BundleError(f"bundle member {name!r}: symbolic links are not allowed")
            if entry.is_dir(follow_symlinks=False):
                walk(Path(entry.path), member)
            elif entry.is_file(follow_symlinks=False):
                with open(entry.path, "rb") as src:
                    _copy_capped(src, _target(staging, member), budget, name)
            else:
                raise BundleError(f"bundle member {name!r}: special files are not allowed")

    walk(source, PurePosixPath())


def _read_manifest(staging: Path) -> dict[str, Any]:
    path = staging / MANIFEST_NAME
    if not path.is_file():
        raise BundleError(f"not an EarBench bundle: {MANIFEST_NAME} is missing")
    if path.stat().st_size > MAX_MANIFEST_BYTES:
        raise BundleError(f"{MANIFEST_NAME} is too large")
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise BundleError(f"{MANIFEST_NAME} is not valid JSON: {exc}") from exc
    if not isinstance(manifest, dict) or manifest.get("format") != BUNDLE_FORMAT:
        raise BundleError(f"not an EarBench bundle: {MANIFEST_NAME} has the wrong format tag")
    if manifest.get("format_version") != BUNDLE_FORMAT_VERSION:
        raise BundleError(f"bundle format version {manifest.get('format_version')!r} is not supported "
                          f"(this EarBench reads {BUNDLE_FORMAT_VERSION})")
    if manifest.get("design") != DESIGN_NAME or not isinstance(manifest.get("files"), dict):
        raise BundleError(f"{MANIFEST_NAME}: 'design' must be {DESIGN_NAME!r} and 'files' a mapping")
    return manifest


def _is_audio(path: Path) -> bool:
    magics = AUDIO_MAGIC.get(path.suffix.lower())
    if magics is None:
        return False
    with path.open("rb") as f:
        head = f.read(12)
    return head.startswith(magics)


def _verify(staging: Path) -> None:
    manifest = _read_manifest(staging)
    listed: dict[str, str] = {}
    for name, entry in manifest["files"].items():
        rel = safe_relative_name(name)
        if not isinstance(entry, dict) or not isinstance(entry.get("sha256"), str):
            raise BundleError(f"{MANIFEST_NAME}: entry {name!r} needs a sha256")
        listed[rel.as_posix()] = entry["sha256"].lower()
    present = {p.relative_to(staging).as_posix() for p in staging.rglob("*") if p.is_file()} - {MANIFEST_NAME}
    if DESIGN_NAME not in listed:
        raise BundleError(f"{MANIFEST_NAME} does not list {DESIGN_NAME}")
    if missing := sorted(set(listed) - present):
        raise BundleError(f"bundle is missing files listed in the manifest: {', '.join(missing[:5])}")
    if extra := sorted(present - set(listed)):
        raise BundleError(f"bundle contains files not in the manifest: {', '.join(extra[:5])}")
    for name, expected in sorted(listed.items()):
        path = staging.joinpath(*PurePosixPath(name).parts)
        if sha256_file(path) != expected:
            raise BundleError(f"checksum mismatch for {name}: the file was changed or damaged")
        if name != DESIGN_NAME and not _is_audio(path):
            raise BundleError(f"{name}: not an audio file (allowed: {', '.join(sorted(AUDIO_MAGIC))})")


def open_bundle(path: str | Path, extract_to: str | Path, max_total_bytes: int = MAX_TOTAL_BYTES) -> TestDesign:
    """Check a bundle (.zip or folder) and unpack it into ``extract_to`` (created if missing, must be empty).

    Returns the design loaded from the unpacked copy. Raises :class:`BundleError` on any problem, leaving
    ``extract_to`` as it was; nothing is ever written outside ``extract_to``.
    """
    source = Path(path)
    root = Path(extract_to)
    root.mkdir(parents=True, exist_ok=True)
    root = root.resolve()
    if any(root.iterdir()):
        raise BundleError(f"{root}: the extraction folder must be empty")
    if source.is_dir() and (source.resolve() == root or source.resolve() in root.parents):
        raise BundleError("the extraction folder must not lie inside the bundle folder")
    staging = Path(tempfile.mkdtemp(prefix=".bundle-", dir=root))
    try:
        if source.is_dir() and not source.is_symlink():
            _copy_folder(source, staging, max_total_bytes)
        elif source.is_file():
            _extract_zip(source, staging, max_total_bytes)
        else:
            raise BundleError(f"{source}: no such bundle (expected a .zip file or a folder)")
        _verify(staging)
        try:
            load_design(staging / DESIGN_NAME)
        except DesignError as exc:
            raise BundleError(f"the bundle's design is invalid: {exc}") from exc
        for entry in staging.iterdir():
            os.replace(entry, root / entry.name)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return load_design(root / DESIGN_NAME)

"""Test bundles: export and reopen; hostile bundles refused with nothing written outside the extraction folder."""

from __future__ import annotations

import hashlib
import json
import os
import stat
import zipfile
from pathlib import Path

import numpy as np
import pytest
import soundfile

from app.core.listening.bundle import MANIFEST_NAME, BundleError, export_bundle, open_bundle
from app.core.listening.design_parse import load_design

DESIGN_YAML = """\
format_version: 1
id: bundle-test
name: Bundle test
type: abx
seed: 7
conditions:
  enc_6: {label: EnCodec 6 kbps, bitrate_kbps: 6}
items:
  - id: tone
    reference: audio/ref.wav
    conditions: {enc_6: audio/enc6.wav}
abx: {trials_per_item: 12}
"""


@pytest.fixture
def design_file(tmp_path: Path) -> Path:
    folder = tmp_path / "src"
    (folder / "audio").mkdir(parents=True)
    t = np.arange(2400) / 24000
    soundfile.write(folder / "audio" / "ref.wav", 0.1 * np.sin(2 * np.pi * 440 * t), 24000)
    soundfile.write(folder / "audio" / "enc6.wav", 0.1 * np.sin(2 * np.pi * 440 * t + 0.01), 24000)
    (folder / "design.yaml").write_text(DESIGN_YAML)
    return folder / "design.yaml"


def tree(root: Path) -> dict[str, bytes | str]:
    """Every path under root (not following links) with its bytes, or 'dir'/'link'."""
    out: dict[str, bytes | str] = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            p = Path(dirpath) / name
            rel = str(p.relative_to(root))
            out[rel] = "link" if p.is_symlink() else "dir" if p.is_dir() else p.read_bytes()
    return out


@pytest.mark.parametrize("suffix", [".zip", ""])
def test_export_and_open_round_trip(design_file: Path, tmp_path: Path, suffix: str) -> None:
    design = load_design(design_file)
    bundle = export_bundle(design, tmp_path / f"out{suffix}")
    opened = open_bundle(bundle, tmp_path / "opened")
    assert opened.to_mapping()["items"][0]["reference"] == "stimuli/audio/ref.wav"
    assert opened.id == design.id and opened.conditions == design.conditions and opened.options == design.options
    for original, copy in zip(design.stimulus_paths(), opened.stimulus_paths(), strict=True):
        assert copy.read_bytes() == original.read_bytes()
        assert (tmp_path / "opened").resolve() in copy.resolve().parents
    manifest = json.loads((tmp_path / "opened" / MANIFEST_NAME).read_text())
    assert manifest["format_version"] == 1 and "stimuli/audio/enc6.wav" in manifest["files"]
    assert not [p for p in (tmp_path / "opened").iterdir() if p.name.startswith(".bundle-")]


def _wav_bytes(tmp_path: Path) -> bytes:
    soundfile.write(tmp_path / "w.wav", np.zeros(100), 8000)
    data = (tmp_path / "w.wav").read_bytes()
    (tmp_path / "w.wav").unlink()
    return data


def _zip(path: Path, members: dict[str, bytes], manifest_files: dict[str, bytes] | None = None,
         link: str | None = None) -> Path:
    """A zip with a manifest whose checksums match ``manifest_files`` (default: the members)."""
    listed = members if manifest_files is None else manifest_files
    manifest = {"format": "earbench-listening-bundle", "format_version": 1, "design": "design.yaml",
                "files": {n: {"sha256": hashlib.sha256(b).hexdigest(), "bytes": len(b)} for n, b in listed.items()}}
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr(MANIFEST_NAME, json.dumps(manifest))
        for name, data in members.items():
            zf.writestr(name, data)
        if link is not None:
            info = zipfile.ZipInfo(link)
            info.external_attr = (stat.S_IFLNK | 0o777) << 16
            zf.writestr(info, "/etc/passwd")
    return path


def _valid_members(design_file: Path) -> dict[str, bytes]:
    text = DESIGN_YAML.replace("audio/", "stimuli/audio/")
    folder = design_file.parent
    return {"design.yaml": text.encode(), "stimuli/audio/ref.wav": (folder / "audio/ref.wav").read_bytes(),
            "stimuli/audio/enc6.wav": (folder / "audio/enc6.wav").read_bytes()}


HOSTILE_CASES = {
    "parent traversal": ({"../evil.wav": b"RIFF"}, None, "'..'"),
    "deep traversal": ({"stimuli/../../evil.wav": b"RIFF"}, None, "'..'"),
    "absolute": ({"/tmp/evil.wav": b"RIFF"}, None, "absolute"),
    "drive letter": ({"C:/evil.wav": b"RIFF"}, None, "colon"),
    "backslash": ({"..\\evil.wav": b"RIFF"}, None, "backslash"),
}


@pytest.mark.parametrize("case", sorted(HOSTILE_CASES))
def test_hostile_member_names_rejected(design_file: Path, tmp_path: Path, case: str) -> None:
    extra, _, message = HOSTILE_CASES[case]
    members = {**_valid_members(design_file), **extra}
    bundle = _zip(tmp_path / "b.zip", members)
    _assert_refused(bundle, tmp_path, message)


def _assert_refused(bundle: Path, tmp_path: Path, message: str, **kwargs: int) -> None:
    target = tmp_path / "x" / "extract"
    target.mkdir(parents=True, exist_ok=True)
    before = tree(tmp_path)
    with pytest.raises(BundleError, match=message):
        open_bundle(bundle, target, **kwargs)
    assert tree(tmp_path) == before  # nothing written anywhere, extraction folder left empty
    assert list(target.iterdir()) == []
    assert not (tmp_path / "evil.wav").exists() and not Path("/tmp/evil.wav").exists()


def test_symlink_member_rejected(design_file: Path, tmp_path: Path) -> None:
    bundle = _zip(tmp_path / "b.zip", _valid_members(design_file), link="stimuli/audio/link.wav")
    _assert_refused(bundle, tmp_path, "links")


def test_symlink_in_folder_bundle_rejected(design_file: Path, tmp_path: Path) -> None:
    folder = export_bundle(load_design(design_file), tmp_path / "folder")
    (folder / "stimuli" / "escape.wav").symlink_to("/etc/passwd")
    _assert_refused(folder, tmp_path, "symbolic links")


def test_wrong_checksum_rejected(design_file: Path, tmp_path: Path) -> None:
    members = _valid_members(design_file)
    tampered = {**members, "stimuli/audio/enc6.wav": members["stimuli/audio/enc6.wav"][:-2] + b"\x01\x02"}
    _assert_refused(_zip(tmp_path / "b.zip", tampered, manifest_files=members), tmp_path, "checksum mismatch")


def test_missing_and_unlisted_files_rejected(design_file: Path, tmp_path: Path) -> None:
    members = _valid_members(design_file)
    listed = {k: v for k, v in members.items() if k != "stimuli/audio/enc6.wav"}
    _assert_refused(_zip(tmp_path / "b.zip", members, manifest_files=listed), tmp_path, "not in the manifest")
    _assert_refused(_zip(tmp_path / "c.zip", listed, manifest_files=members), tmp_path, "missing files")


def test_python_yaml_tag_rejected_and_not_executed(design_file: Path, tmp_path: Path) -> None:
    marker = tmp_path / "PWNED"
    members = _valid_members(design_file)
    members["design.yaml"] = f'!!python/object/apply:os.system ["touch {marker}"]\n'.encode()
    _assert_refused(_zip(tmp_path / "b.zip", members), tmp_path, "tags that construct objects")
    assert not marker.exists()


def test_non_audio_stimulus_rejected(design_file: Path, tmp_path: Path) -> None:
    members = {**_valid_members(design_file), "stimuli/audio/enc6.wav": b"#!/bin/sh\nrm -rf /\n"}
    _assert_refused(_zip(tmp_path / "b.zip", members), tmp_path, "not an audio file")
    members = {**_valid_members(design_file), "stimuli/run.sh": _wav_bytes(tmp_path)}
    _assert_refused(_zip(tmp_path / "c.zip", members), tmp_path, "not an audio file")


def test_oversized_bundle_rejected(design_file: Path, tmp_path: Path) -> None:
    members = {**_valid_members(design_file), "stimuli/big.wav": b"RIFF" + bytes(200_000)}
    _assert_refused(_zip(tmp_path / "b.zip", members), tmp_path, "exceeds the limit", max_total_bytes=100_000)


def test_not_a_bundle_and_non_empty_target(design_file: Path, tmp_path: Path) -> None:
    (tmp_path / "junk.zip").write_bytes(b"not a zip")
    _assert_refused(tmp_path / "junk.zip", tmp_path, "not a readable zip")
    bundle = export_bundle(load_design(design_file), tmp_path / "ok.zip")
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "keep.txt").write_text("mine")
    with pytest.raises(BundleError, match="must be empty"):
        open_bundle(bundle, tmp_path / "full")
    assert (tmp_path / "full" / "keep.txt").read_text() == "mine"

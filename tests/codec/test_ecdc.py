"""``.ecdc`` round trips through the codec, the multi-stream extension, and refusals of files a model can't read."""

from __future__ import annotations

import io
import json
import struct
from pathlib import Path

import numpy as np
import pytest

from codec import BitstreamError, Codec, load_codec
from codec.ecdc import read_ecdc, write_ecdc
from codec.testing import random_codec_checkpoint


@pytest.fixture(scope="module")
def codec(tmp_path_factory: pytest.TempPathFactory) -> Codec:
    return load_codec(random_codec_checkpoint(tmp_path_factory.mktemp("m") / "m.safetensors"))


def _file(header: dict[str, object], body: bytes = b"") -> io.BytesIO:
    payload = json.dumps(header).encode()
    return io.BytesIO(struct.pack("!4sBI", b"ECDC", 0, len(payload)) + payload + body)


def test_stereo_through_mono_model_round_trips(codec: Codec) -> None:
    audio = (0.1 * np.random.default_rng(0).standard_normal((2, 5_000))).astype(np.float32)
    encoded = codec.encode(audio, 24_000, 3.0)
    buffer = io.BytesIO()
    write_ecdc(buffer, encoded)
    assert b'"streams": 2' in buffer.getvalue()[:120]
    buffer.seek(0)
    read = read_ecdc(buffer, lambda name: codec)
    assert read.num_streams == 2
    for ours, theirs in zip(encoded.segments, read.segments, strict=True):
        np.testing.assert_array_equal(ours.codes, theirs.codes)
    np.testing.assert_allclose(codec.decode(read), codec.decode(encoded), atol=1e-6)


def test_mono_file_has_no_extension_key(codec: Codec) -> None:
    buffer = io.BytesIO()
    write_ecdc(buffer, codec.encode(np.zeros((1, 400), np.float32), 24_000, 1.5))
    assert b"streams" not in buffer.getvalue()


@pytest.mark.parametrize(("header", "message"), [
    ({"m": "x", "al": 100, "nc": 8, "lm": True}, "language model"),
    ({"m": "x", "al": 100, "nc": 33, "lm": False}, "33 codebooks"),
    ({"m": "x", "al": 0, "nc": 8, "lm": False}, "no audio"),
    ({"m": "x", "al": 100, "nc": 8, "lm": False, "streams": 0}, "streams"),
    ({"m": "x", "al": 100, "nc": 8, "lm": False, "streams": "2"}, "streams"),
    ({"m": "x", "al": 2**40, "nc": 8, "lm": False}, "24 h"),
    ({"m": "x", "al": 3600 * 24_000, "nc": 8, "lm": False}, "truncated"),
])
def test_files_the_model_cannot_read(codec: Codec, header: dict[str, object], message: str) -> None:
    with pytest.raises(BitstreamError, match=message):
        read_ecdc(_file(header), lambda name: codec)


def test_unknown_model_name_in_header_fails_cleanly(tmp_path: Path) -> None:
    from codec import ModelNotFoundError

    with pytest.raises(ModelNotFoundError):
        read_ecdc(_file({"m": "not_a_model", "al": 10, "nc": 2, "lm": False}),
                  lambda name: load_codec(name, search_dirs=[tmp_path], hub_dir=tmp_path))

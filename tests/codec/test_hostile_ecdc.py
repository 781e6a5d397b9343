"""Hostile ``.ecdc`` input: the malformed corpus in ``tests/data/ecdc``, fuzzed files, and bounded LM work.

Every malformed file must give one :class:`CodecError` naming the problem, through :func:`read_ecdc` and the CLI's
``decode`` (exit code 2, no traceback, no output file left), whether or not the input can seek.
"""

from __future__ import annotations

import dataclasses
import importlib.util
import io
import json
import re
import struct
import sys
import tracemalloc
from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

import codec.cli
import codec.errors
from codec.api import Codec, EncodedAudio, load_codec
from codec.bitstream.container import EcdcHeader, write_header, write_segment
from codec.bitstream.limits import check_duration, check_model_name, remaining_bytes
from codec.cli import atomic_output, main
from codec.ecdc import read_ecdc, write_ecdc
from codec.errors import BitstreamError, CodecError, ModelNotFoundError
from codec.lm.coding import min_coded_bytes
from codec.lm.segment import decode_segment_codes
from codec.testing import random_model

CORPUS = Path(__file__).resolve().parents[1] / "data" / "ecdc"


def _load_script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("make_malformed", CORPUS / "make_malformed.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


SCRIPT = _load_script()
CASES = {case.name: case for case in SCRIPT.cases()}


class StubLM:
    """Duck-typed LM with fixed probabilities ``[1, card, K, 1]``; counts its steps (the decoder's work).

    ``peak=None`` gives exactly 1/1024 per code, the probabilities of the corpus's zeroed LM (same CDFs, same bytes)
    at a fraction of a transformer step; ``peak=p`` gives code 0 probability ``p``.
    """

    def __init__(self, n_q: int = 32, peak: float | None = None) -> None:
        self.n_q, self.card, self.calls, self.coding_threads = n_q, 1024, 0, 1
        self.probas = torch.full((1, 1024, n_q, 1), 1 / 1024)
        if peak is not None:
            self.probas.fill_((1 - peak) / 1023)
            self.probas[:, 0] = peak

    def stepper(self) -> StubLM:
        return self

    def step(self, x: torch.Tensor) -> torch.Tensor:
        self.calls += 1
        return self.probas[:, :, : x.shape[1]]


class Pipe:
    """A readable stream that cannot seek, like stdin: the reader cannot pre-check sizes and must stop at the end."""

    def __init__(self, data: bytes) -> None:
        self._buffer = io.BytesIO(data)

    def read(self, size: int = -1) -> bytes:
        return self._buffer.read(size)

    def seekable(self) -> bool:
        return False


@pytest.fixture(scope="module", autouse=True)
def one_thread() -> Iterator[None]:
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # tiny LM and model steps: threads only add contention on a shared machine
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="module")
def codecs() -> dict[str, Codec]:
    return {name: Codec(random_model(name)) for name in ("encodec_24khz", "encodec_48khz")}


@pytest.fixture(scope="module")
def lm() -> torch.nn.Module:
    return SCRIPT.uniform_lm()


def _codec_for(codecs: dict[str, Codec], folder: Path, model: str | None = None) -> Callable[[str], Codec]:
    def codec_for(name: str) -> Codec:
        name = model or name
        return codecs[name] if name in codecs else load_codec(name, search_dirs=[folder], hub_dir=folder)

    return codec_for


def _check_decoded(encoded: EncodedAudio, header_nc: int) -> None:
    assert encoded.num_codebooks == header_nc
    for segment in encoded.segments:
        assert segment.codes.dtype == np.int64 and segment.codes.shape[1] == header_nc
        assert segment.codes.min() >= 0 and segment.codes.max() < 1024


def test_corpus_is_what_the_script_makes() -> None:
    on_disk = {path.name for path in CORPUS.glob("*.ecdc")}
    assert on_disk == set(CASES), "run tests/data/ecdc/make_malformed.py"
    for name, case in CASES.items():
        assert (CORPUS / name).read_bytes() == case.data, name
        assert len(case.data) <= 8192, name
    assert (CORPUS / "README.md").read_text(encoding="utf-8") == SCRIPT.readme(list(CASES.values()))


@pytest.mark.parametrize("name", list(CASES))
def test_corpus_file_gives_its_one_error(name: str, codecs: dict[str, Codec], lm: torch.nn.Module,
                                         tmp_path: Path) -> None:
    case = CASES[name]
    codec_for = _codec_for(codecs, tmp_path, case.model)
    with open(CORPUS / name, "rb") as fo:
        if case.expect is None:
            encoded = read_ecdc(fo, codec_for, lambda _: lm)
            assert np.isfinite(codec_for(encoded.model_name).decode(encoded)).all()
            return
        with pytest.raises(getattr(codec.errors, case.error), match=case.expect):
            read_ecdc(fo, codec_for, lambda _: lm)


def test_corpus_through_a_pipe_gives_the_same_kind_of_error(codecs: dict[str, Codec], tmp_path: Path) -> None:
    # Without seeking there is no size pre-check; the readers must still stop at the data's real end.
    for name, case in CASES.items():
        lm = StubLM()
        codec_for = _codec_for(codecs, tmp_path, case.model)
        if case.expect is None:
            read_ecdc(Pipe(case.data), codec_for, lambda _, lm=lm: lm)  # type: ignore[arg-type, misc]
        else:
            with pytest.raises(getattr(codec.errors, case.error)):
                read_ecdc(Pipe(case.data), codec_for, lambda _, lm=lm: lm)  # type: ignore[arg-type, misc]
        assert lm.calls <= len(case.data) * 8 // 9 + 1, name  # uniform LM: 10 bits per code, whatever the header


@pytest.fixture()
def cli_models(monkeypatch: pytest.MonkeyPatch, codecs: dict[str, Codec], lm: torch.nn.Module,
               tmp_path: Path) -> None:
    """The CLI finds the random codecs and the corpus's LM by name, without loading files for each call."""
    monkeypatch.setattr(codec.cli, "load_codec", _codec_for(codecs, tmp_path / "models"))
    monkeypatch.setattr(codec.cli, "find_lm_checkpoint", lambda name, source=None: Path("uniform_lm.th"))
    monkeypatch.setattr(codec.cli, "load_lm", lambda path, frame_rate=None: lm)


def test_corpus_through_cli_decode(cli_models: None, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    for name, case in CASES.items():
        out = out_dir / f"{name}.wav"
        args = ["decode", str(CORPUS / name), str(out)] + (["--model", case.model] if case.model else [])
        code = main(args)
        err = capsys.readouterr().err
        if case.expect is None:
            assert code == 0 and out.is_file(), (name, err)
            continue
        lines = err.strip().splitlines()
        assert code == 2 and len(lines) == 1 and lines[0].startswith("error: "), (name, err)
        assert "Traceback" not in err
        assert re.search(case.expect, lines[0]), (name, lines[0])
    decoded = {f"{name}.wav" for name, case in CASES.items() if case.expect is None}
    assert {path.name for path in out_dir.iterdir()} == decoded  # no output, and no partial file, for any failure


def test_failed_decode_leaves_an_existing_output_untouched(cli_models: None, tmp_path: Path) -> None:
    out = tmp_path / "keep.wav"
    out.write_bytes(b"previous")
    assert main(["decode", str(CORPUS / "truncated_body_75.ecdc"), str(out)]) == 2
    assert out.read_bytes() == b"previous"
    assert [path.name for path in tmp_path.iterdir()] == ["keep.wav"]


def test_write_errors_name_the_output_not_the_temporary_file(cli_models: None, tmp_path: Path,
                                                             capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "x.mp3"
    assert main(["decode", str(CORPUS / "valid_24k.ecdc"), str(out)]) == 2
    err = capsys.readouterr().err
    assert str(out) in err and "partial" not in err and "unknown extension" in err
    assert list(tmp_path.iterdir()) == []


def test_atomic_output_removes_the_partial_file_on_any_failure(tmp_path: Path) -> None:
    target = tmp_path / "a.wav"
    with pytest.raises(KeyboardInterrupt), atomic_output(target) as partial:
        partial.write_bytes(b"half")
        raise KeyboardInterrupt
    assert list(tmp_path.iterdir()) == []
    with atomic_output(target) as partial:
        assert partial.parent == tmp_path and partial.suffix == ".wav" and partial.name.startswith(".")
        partial.write_bytes(b"whole")
    assert [p.name for p in tmp_path.iterdir()] == ["a.wav"] and target.read_bytes() == b"whole"


def test_absurd_scale_is_an_error_not_an_infinite_output(cli_models: None, tmp_path: Path,
                                                          capsys: pytest.CaptureFixture[str]) -> None:
    # A finite float32 scale near its maximum makes the random model's output (peaks near 5) overflow.
    header, body = SCRIPT.plain_48k((3.4e38, 3.4e38))
    path = tmp_path / "loud.ecdc"
    path.write_bytes(header + body)
    assert main(["decode", str(path), str(tmp_path / "loud.wav")]) == 2
    err = capsys.readouterr().err
    assert "decodes to unusable audio" in err and "infinite" in err and "scales reach 3.4e+38" in err
    assert [p.name for p in tmp_path.iterdir()] == ["loud.ecdc"]


# --- Bounded work -------------------------------------------------------------------------------------------------


def test_maximal_lm_header_fails_before_any_lm_work(codecs: dict[str, Codec], tmp_path: Path) -> None:
    lm = StubLM()
    data = (CORPUS / "lm_24h_header_1kb_body.ecdc").read_bytes()
    tracemalloc.start()
    try:
        with pytest.raises(BitstreamError, match="need at least"):
            read_ecdc(io.BytesIO(data), _codec_for(codecs, tmp_path), lambda _: lm)
        _, peak_bytes = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert lm.calls == 0 and peak_bytes < 4 * 2**20


def test_min_coded_bytes_is_sound_for_the_most_confident_lm() -> None:
    # Code 0 with probability 1 costs the least a code can cost; an all-zero body decodes zeros until its bits run
    # out. The bound must allow at least as many codes as really decode, and not wildly more.
    lm = StubLM(peak=1.0)
    body = bytes(4)
    with pytest.raises(BitstreamError, match="truncated"):
        decode_segment_codes(io.BytesIO(body), lm, 32, 10**6)  # type: ignore[arg-type]
    decoded = (lm.calls - 1) * 32
    assert decoded > 10_000
    assert min_coded_bytes(decoded) <= len(body)
    assert min_coded_bytes(10 * decoded) > len(body)


def test_min_coded_bytes() -> None:
    assert min_coded_bytes(0) == 0
    assert min_coded_bytes(1) == 3  # the first code needs 24 bits
    per_code_bits = 8 * min_coded_bytes(10**9) / 10**9
    assert 8.7e-5 < per_code_bits < 8.9e-5  # half of -log2(1 - 2046 / 2**24)


def test_lm_decoding_never_runs_past_the_declared_frames(codecs: dict[str, Codec], tmp_path: Path) -> None:
    lm = StubLM()
    with pytest.raises(BitstreamError, match="7 unexpected bytes"):
        read_ecdc(io.BytesIO(CASES["lm_trailing_garbage.ecdc"].data), _codec_for(codecs, tmp_path), lambda _: lm)
    assert lm.calls == 15


@pytest.mark.parametrize("seed", ["valid_24k.ecdc", "valid_48k.ecdc", "valid_lm_24k.ecdc"])
def test_every_truncation_is_refused(seed: str, codecs: dict[str, Codec], tmp_path: Path) -> None:
    data = CASES[seed].data
    codec_for = _codec_for(codecs, tmp_path)
    read_ecdc(io.BytesIO(data), codec_for, lambda _: StubLM())
    for cut in range(len(data)):
        for stream in (io.BytesIO(data[:cut]), Pipe(data[:cut])):
            with pytest.raises(BitstreamError, match="truncated"):
                read_ecdc(stream, codec_for, lambda _: StubLM())  # type: ignore[arg-type]


# --- Fuzzing ------------------------------------------------------------------------------------------------------


def _two_stream_file() -> bytes:
    buffer = io.BytesIO()
    write_header(buffer, EcdcHeader("encodec_24khz", 640, 2, False, num_streams=2))
    write_segment(buffer, np.arange(4).reshape(2, 2), None)
    write_segment(buffer, np.arange(4, 8).reshape(2, 2), None)
    return buffer.getvalue()


SEEDS = [CASES[name].data for name in ("valid_24k.ecdc", "valid_48k.ecdc", "valid_lm_24k.ecdc")] + [_two_stream_file()]


def _json_length(data: bytes) -> int:
    return 9 + struct.unpack("!I", data[5:9])[0]


random_metadata = st.fixed_dictionaries(
    {
        "m": st.sampled_from(["encodec_24khz", "encodec_48khz", "x", "", "a/b"]),
        "al": st.one_of(st.sampled_from([640, 4800, 50_000]), st.integers(-2, 100_000), st.integers(-(2**42), 2**42)),
        "nc": st.one_of(st.sampled_from([2, 4, 8]), st.integers(-1, 40)),
        "lm": st.booleans(),
    },
    optional={"streams": st.integers(-1, 70)},
)


@st.composite
def mutated_files(draw: st.DrawFn) -> bytes:
    """A valid seed file after 1-3 bit flips, cuts, insertions, deletions (mostly in the body) or new headers."""
    data = bytearray(draw(st.sampled_from(SEEDS)))
    for _ in range(draw(st.integers(1, 3))):
        op = draw(st.sampled_from(["flip_body", "flip_body", "flip_header", "cut", "insert", "delete", "header"]))
        size = len(data)
        header_end = min(size, _json_length(bytes(data))) if size >= 9 else size
        body = st.integers(header_end, size)
        if (op == "flip_body" and size > header_end) or (op == "flip_header" and size):
            position = draw(st.integers(header_end, size - 1) if op == "flip_body" else st.integers(0, header_end - 1))
            data[position] ^= 1 << draw(st.integers(0, 7))
        elif op == "cut":
            del data[draw(st.one_of(body, st.integers(0, size))):]
        elif op == "insert":
            position = draw(body)
            data[position:position] = draw(st.binary(min_size=1, max_size=16))
        elif op == "delete":
            start = draw(body)
            del data[start : start + draw(st.integers(1, 16))]
        elif op == "header" and size >= 9 and data[:4] == b"ECDC":
            payload = json.dumps(draw(random_metadata)).encode()
            data[:header_end] = struct.pack("!4sBI", b"ECDC", 0, len(payload)) + payload
    return bytes(data)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=mutated_files(), seekable=st.booleans())
def test_fuzzed_files_give_codec_errors_only(data: bytes, seekable: bool, codecs: dict[str, Codec],
                                             tmp_path: Path) -> None:
    lm = StubLM()

    def codec_for(name: str) -> Codec:
        if name not in codecs:
            raise ModelNotFoundError(f"no model named {name!r}")
        return codecs[name]

    stream = io.BytesIO(data) if seekable else Pipe(data)
    try:
        encoded = read_ecdc(stream, codec_for, lambda _: lm)  # type: ignore[arg-type]
    except CodecError as exc:
        event(f"{type(exc).__name__}: {' '.join(str(exc).split()[:3])}")  # --hypothesis-show-statistics
        return
    finally:
        # LM work is bounded by the file's bytes whatever its header claims: a uniform LM spends 10 bits per code.
        assert lm.calls <= len(data) * 8 // 9 + 1
    event("decoded")
    _check_decoded(encoded, json.loads(data[9:_json_length(data)])["nc"])


# --- Limits -------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("name", "message"), [
    ("", "1..255"), ("x" * 256, "1..255"), ("../m", "path"), ("C:\\m", "path"), ("~user", "path"), ("..", "path"),
    ("m\x00", "control"), ("m\n", "control"), ("m\u200b", "control"),
])
def test_model_names_that_are_not_names(name: str, message: str) -> None:
    with pytest.raises(BitstreamError, match=message):
        check_model_name(name)


def test_plain_names_pass() -> None:
    for name in ("encodec_24khz", "random_encodec_48khz", "mon-modèle.v2", "x" * 255):
        check_model_name(name)


def test_writer_refuses_names_the_reader_refuses(codecs: dict[str, Codec]) -> None:
    encoded = codecs["encodec_24khz"].encode(np.zeros((1, 320), np.float32), 24_000, 1.5)
    with pytest.raises(BitstreamError, match="path"):
        write_ecdc(io.BytesIO(), dataclasses.replace(encoded, model_name="models/mine"))


def test_duration_limits() -> None:
    check_duration(24 * 3600 * 24_000, 2, 24_000)
    with pytest.raises(BitstreamError, match="24 h"):
        check_duration(24 * 3600 * 24_000 + 24_000, 1, 24_000)
    with pytest.raises(BitstreamError, match="channel-hours"):
        check_duration(7 * 3600 * 48_000, 8, 48_000)


def test_remaining_bytes() -> None:
    stream = io.BytesIO(b"abcdef")
    stream.read(2)
    assert remaining_bytes(stream) == 4 and stream.read() == b"cdef"
    assert remaining_bytes(Pipe(b"abc")) is None  # type: ignore[arg-type]

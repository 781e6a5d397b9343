"""Write the hand-made corpus of malformed ``.ecdc`` files in this folder, and its README.

Run from the repository root after changing a case: ``.venv/bin/python tests/data/ecdc/make_malformed.py``.
``tests/codec/test_hostile_ecdc.py`` checks that the committed files and README are what this script makes, and that
every file gives its one expected error through ``read_ecdc`` and the CLI ``decode``.

Codes come from a seeded NumPy generator. LM-coded bodies use :func:`uniform_lm`: an LM whose output layers are zero,
so its probabilities are exactly 1/1024 on any machine (the bytes do not depend on float details of the platform).
"""

from __future__ import annotations

import io
import json
import struct
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[3]
if str(ROOT) not in sys.path:  # run as a script from anywhere
    sys.path.insert(0, str(ROOT))

from codec.bitstream.container import EcdcHeader, frames_for_length, write_header, write_segment  # noqa: E402

FOLDER = Path(__file__).resolve().parent
HOUR_24K = 3600 * 24_000
MAX_24H_24K = 24 * HOUR_24K


@dataclass(frozen=True)
class Case:
    """One corpus file.

    ``expect`` is a regex the reader's one error message must match (None: the file decodes), ``error`` the
    :class:`~codec.errors.CodecError` subclass, ``model`` the model the CLI is told to decode with (None: the one the
    header names).
    """

    name: str
    problem: str
    data: bytes
    expect: str | None
    error: str = "BitstreamError"
    model: str | None = None


def uniform_lm(n_q: int = 32, frame_rate: int = 75):  # type: ignore[no-untyped-def]
    """An LM (:class:`codec.lm.LMModel`) predicting exactly 1/1024 for every code: its output layers are zeroed."""
    import torch

    from codec.lm import build_lm

    lm = build_lm(n_q, frame_rate)
    with torch.no_grad():
        for linear in lm.linears:
            linear.weight.zero_()
            linear.bias.zero_()
    return lm


def _codes(num_codebooks: int, num_frames: int, seed: int) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 1024, size=(num_codebooks, num_frames))


def raw_header(payload: bytes, magic: bytes = b"ECDC", version: int = 0, length: int | None = None) -> bytes:
    """The ``!4sBI`` header struct followed by ``payload``, with any field forced."""
    return struct.pack("!4sBI", magic, version, len(payload) if length is None else length) + payload


def json_header(**fields: object) -> bytes:
    """A header for a 0.2 s 24 kHz file at 6 kbps, with ``fields`` replaced (``None`` values are dropped)."""
    metadata: dict[str, object] = {"m": "encodec_24khz", "al": 4800, "nc": 8, "lm": False}
    metadata.update(fields)
    return raw_header(json.dumps({k: v for k, v in metadata.items() if v is not None}).encode())


def header_bytes(header: EcdcHeader) -> bytes:
    buffer = io.BytesIO()
    write_header(buffer, header)
    return buffer.getvalue()


def plain_24k_body() -> bytes:
    buffer = io.BytesIO()
    write_segment(buffer, _codes(8, frames_for_length(4800), seed=1), None)
    return buffer.getvalue()


def plain_48k(scales: tuple[float, float] = (0.125, 0.25)) -> tuple[bytes, bytes]:
    """(header, body) of a 50,000-sample 48 kHz file: two segments (150 and 8 frames) of 4 codebooks."""
    buffer = io.BytesIO()
    for length, scale, seed in ((48_000, scales[0], 2), (2_480, scales[1], 3)):
        # write_segment refuses bad scales, so they are written by hand.
        buffer.write(struct.pack("!f", scale))
        write_segment(buffer, _codes(4, frames_for_length(length), seed), None)
    return header_bytes(EcdcHeader("encodec_48khz", 50_000, 4, False)), buffer.getvalue()


def lm_24k_body(num_codebooks: int = 8, audio_length: int = 4800) -> bytes:
    from codec.lm.segment import encode_segment_codes

    buffer = io.BytesIO()
    encode_segment_codes(buffer, _codes(num_codebooks, frames_for_length(audio_length), seed=4), uniform_lm())
    return buffer.getvalue()


def _garbage(size: int, seed: int) -> bytes:
    return np.random.default_rng(seed).integers(0, 256, size=size, dtype=np.uint8).tobytes()


def _header_cases() -> list[Case]:
    return [
        Case("empty.ecdc", "an empty file", b"", "truncated"),
        Case("bad_magic.ecdc", "magic RIFF instead of ECDC (a WAV file renamed)",
             raw_header(b"{}", magic=b"RIFF"), "not an .ecdc file: magic"),
        Case("unknown_version.ecdc", "version byte 1 (only 0 exists)",
             raw_header(json_header()[9:], version=1), "unsupported .ecdc version 1"),
        Case("header_length_4gb.ecdc", "the JSON length field says 4 GB (0xFFFFFFFF)",
             raw_header(b"{}", length=2**32 - 1), "claims 4294967295 bytes, more than"),
        Case("header_struct_cut.ecdc", "the file ends inside the 9-byte header struct", b"ECDC\x00\x00", "truncated"),
        Case("header_json_cut.ecdc", f"the JSON length says {len(json_header()) - 9} bytes, 20 follow",
             json_header()[:29], "truncated"),
        Case("header_not_json.ecdc", "the metadata is not JSON", raw_header(b"{m: encodec_24khz}"),
             "not valid UTF-8 JSON"),
        Case("header_not_utf8.ecdc", "the metadata is not UTF-8", raw_header(b"{\"m\": \"\xff\xfe\"}"),
             "not valid UTF-8 JSON"),
        Case("header_json_list.ecdc", "the metadata is a JSON list, not an object",
             raw_header(b'["encodec_24khz", 4800, 8, false]'), "must be a JSON object, got list"),
        Case("header_deep_nesting.ecdc", "the metadata nests 3,000 lists (a recursion bomb)",
             raw_header(b"[" * 3_000), "not valid UTF-8 JSON"),
        Case("header_missing_keys.ecdc", "the metadata lacks 'al' and 'nc'", json_header(al=None, nc=None),
             "lacks the key\\(s\\) al, nc"),
        Case("header_length_string.ecdc", "'al' is the string \"4800\"", json_header(al="4800"),
             "'al' must be int, got str"),
        Case("header_length_float.ecdc", "'al' is the float 4800.0", json_header(al=4800.0),
             "'al' must be int, got float"),
        Case("header_lm_not_bool.ecdc", "'lm' is 1, not a bool", json_header(lm=1), "'lm' must be bool, got int"),
        Case("header_model_not_string.ecdc", "'m' is a number", json_header(m=24), "'m' must be str, got int"),
        Case("header_huge_integer.ecdc", "'al' has 5,000 digits (slow int parsing)",
             raw_header(b'{"m": "encodec_24khz", "al": 1' + b"0" * 5000 + b', "nc": 8, "lm": false}'),
             "not valid UTF-8 JSON"),
        Case("negative_length.ecdc", "'al' is -1", json_header(al=-1) + plain_24k_body(), "audio length must be in"),
        Case("length_2_pow_41.ecdc", "'al' is 2**41 samples, beyond any container", json_header(al=2**41),
             "audio length must be in"),
        Case("length_over_24h.ecdc", "'al' is 25 h at 24 kHz (over the 24 h a reader accepts)",
             json_header(al=25 * HOUR_24K) + plain_24k_body(), "more than the 24 h"),
        Case("zero_length_audio.ecdc", "'al' is 0: no audio", json_header(al=0), "no audio \\(length 0\\)"),
        Case("huge_num_codebooks.ecdc", "'nc' is 1,000,000", json_header(nc=1_000_000) + plain_24k_body(),
             "number of codebooks must be in 1..1024"),
        Case("zero_codebooks.ecdc", "'nc' is 0", json_header(nc=0), "number of codebooks must be in 1..1024"),
        Case("more_codebooks_than_model.ecdc", "'nc' is 33; the 24 kHz model has 32",
             json_header(nc=33) + plain_24k_body(), "33 codebooks; encodec_24khz has 32"),
        Case("streams_zero.ecdc", "'streams' (EarBench extension) is 0", json_header(streams=0),
             "number of streams must be in"),
        Case("streams_string.ecdc", "'streams' is the string \"2\"", json_header(streams="2"), "'streams' must be int"),
        Case("too_many_channels.ecdc", "64 streams of the stereo 48 kHz model: 128 channels",
             json_header(m="encodec_48khz", nc=4, al=50_000, streams=64), "more than the 64 channels",
             model="encodec_48khz"),
        Case("unknown_model.ecdc", "the header names a model that is not installed",
             json_header(m="no_such_model") + plain_24k_body(), "no_such_model", error="ModelNotFoundError"),
        Case("model_name_is_path.ecdc", "the model name is a path (../../etc/passwd)",
             json_header(m="../../etc/passwd") + plain_24k_body(), "is a path, not a model name"),
        Case("model_name_control_chars.ecdc", "the model name holds a NUL character",
             json_header(m="encodec\u0000_24khz") + plain_24k_body(), "control or unassigned characters"),
        Case("model_name_too_long.ecdc", "the model name has 5,000 characters (too long for a file name)",
             json_header(m="x" * 5000) + plain_24k_body(), "model name must have 1..255 characters"),
        Case("sample_rate_mismatch.ecdc", "written by encodec_48khz, decoded with the 24 kHz model (--model)",
             json_header(m="encodec_48khz", nc=4, al=50_000) + plain_48k()[1],
             "written by encodec_48khz \\(48000 Hz", model="encodec_24khz"),
    ]


def _body_cases() -> list[Case]:
    header = json_header()
    body = plain_24k_body()
    header_48k, body_48k = plain_48k()
    lm_header = json_header(lm=True)
    lm_body = lm_24k_body()
    cases = [
        Case("valid_24k.ecdc", "nothing: a valid 0.2 s 24 kHz file (the seed of the others)", header + body, None),
        Case("valid_48k.ecdc", "nothing: a valid 48 kHz file of two segments", header_48k + body_48k, None,
             model="encodec_48khz"),
        Case("valid_lm_24k.ecdc", "nothing: a valid LM-coded file (uniform LM)", lm_header + lm_body, None),
        Case("garbage_body_exact_size.ecdc", "random bytes of exactly the body's size: decodes to noise "
             "(version 0 has no checksum; every 10-bit value is a valid code)", header + _garbage(len(body), 5), None),
        Case("garbage_body_wrong_size.ecdc", "1,000 random bytes where 150 belong", header + _garbage(1000, 6),
             "850 unexpected bytes after its last segment"),
        Case("trailing_garbage.ecdc", "a valid file with 7 bytes appended", header + body + b"garbage",
             "7 unexpected bytes after its last segment"),
        Case("scale_nan_48k.ecdc", "the first 48 kHz segment scale is NaN",
             header_48k + plain_48k((float("nan"), 0.25))[1], "scale must be finite and positive, got nan",
             model="encodec_48khz"),
        Case("scale_inf_48k.ecdc", "the second 48 kHz segment scale is +Inf",
             header_48k + plain_48k((0.125, float("inf")))[1], "scale must be finite and positive, got inf",
             model="encodec_48khz"),
        Case("scale_negative_48k.ecdc", "the first 48 kHz segment scale is -1",
             header_48k + plain_48k((-1.0, 0.25))[1], "scale must be finite and positive, got -1",
             model="encodec_48khz"),
        Case("truncated_48k_second_scale.ecdc", "the 48 kHz file ends inside the second segment's scale",
             header_48k + body_48k[: 4 + 750 + 2], "truncated", model="encodec_48khz"),
        Case("lm_garbage_body.ecdc", "lm: true with 40 random bytes where ~150 belong", lm_header + _garbage(40, 7),
             "truncated: the LM-coded stream ended"),
        Case("lm_garbage_body_long.ecdc", "lm: true with 2,000 random bytes (more than the codes use)",
             lm_header + _garbage(2000, 8), "unexpected bytes after its last segment"),
        Case("lm_truncated_body.ecdc", "a valid LM-coded body cut in half", lm_header + lm_body[: len(lm_body) // 2],
             "truncated: the LM-coded stream ended"),
        Case("lm_24h_header_1kb_body.ecdc", "lm: true declaring 24 h of 32 codebooks with a 1 kB body (hours of LM "
             "work if believed)", json_header(lm=True, nc=32, al=MAX_24H_24K) + _garbage(1000, 9),
             "LM-coded codes need at least"),
        Case("lm_trailing_garbage.ecdc", "a valid LM-coded file with 7 bytes appended",
             lm_header + lm_body + b"garbage", "7 unexpected bytes after its last segment"),
    ]
    for cut in (0, 1, len(body) // 2, len(body) - 1):
        cases.append(Case(f"truncated_body_{cut}.ecdc", f"the body ends after {cut} of its {len(body)} bytes",
                          header + body[:cut], f"truncated: .* need {len(body)} bytes, but only {cut} follow"))
    return cases


def cases() -> list[Case]:
    """Every corpus file, in README order."""
    return _header_cases() + _body_cases()


def readme(all_cases: list[Case]) -> str:
    """The folder's README: what each file is and the error it must give."""
    lines = [
        "# Malformed `.ecdc` corpus",
        "",
        "Hand-made hostile inputs for the `.ecdc` reader, written by `make_malformed.py` (do not edit the files or",
        "this README by hand; run `.venv/bin/python tests/data/ecdc/make_malformed.py` from the repository root).",
        "`tests/codec/test_hostile_ecdc.py` checks that each one gives exactly one `CodecError` subclass whose",
        "message matches the pattern below, through `codec.ecdc.read_ecdc` and through `earbench-codec decode`",
        "(exit code 2, one `error:` line on stderr, no output file left behind). Files marked *decodes* must decode.",
        "",
        "24 kHz files are 0.2 s (4,800 samples, 15 frames of 8 codebooks); the 48 kHz ones are 50,000 samples in two",
        "segments of 4 codebooks; LM-coded bodies use an LM predicting exactly 1/1024 for every code.",
        "",
        "Decisions the corpus pins down:",
        "",
        "- **Trailing bytes are an error**, although encodec 0.1.1 ignores them. Version 0 has no checksum and no body",
        "  length, so a body longer than its header implies (an `al` or `nc` corrupted downwards, two files",
        "  concatenated, an append) is the one sign of corruption left; neither writer ever produces one.",
        "- **A garbage body of exactly the right size decodes** (to noise): without the LM every 10-bit value is a",
        "  valid code, and version 0 has nothing else to check. Only a new container version could add a checksum.",
        "- **Declared length is capped at 24 h** (and 48 channel-hours), and checked against the file's size before",
        "  reading the body: exactly without the LM; with it, by the fewest bytes the declared codes could take",
        "  (`codec.lm.coding.min_coded_bytes`, at most ~91,000 codes per byte), so LM work is bounded by file size.",
        "- **The model name is a name, never a path** (no `/`, `\\`, `~`, control characters; at most 255 characters):",
        "  the CLI resolves it to a model file on this machine.",
        "",
        "| file | what is wrong | error |",
        "|---|---|---|",
    ]
    for case in all_cases:
        expected = "*decodes*" if case.expect is None else f"{case.error}: `{case.expect.replace('|', '&#124;')}`"
        lines.append(f"| `{case.name}` | {case.problem} | {expected} |")
    return "\n".join(lines) + "\n"


def main() -> None:
    all_cases = cases()
    for stale in FOLDER.glob("*.ecdc"):
        stale.unlink()
    for case in all_cases:
        (FOLDER / case.name).write_bytes(case.data)
    (FOLDER / "README.md").write_text(readme(all_cases), encoding="utf-8")
    print(f"wrote {len(all_cases)} files to {FOLDER}")


if __name__ == "__main__":
    main()

"""The CLI's route to :mod:`codec.longform` for long inputs (kept here so ``codec.cli`` needs only a few lines).

Inputs of at least :data:`LONG_INPUT_S` go block by block in bounded memory; shorter ones keep the one-shot path.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path

from codec.api import Codec, ProgressCallback
from codec.audio import read_audio_info
from codec.bitstream import read_header
from codec.lm import LMModel

LONG_INPUT_S = 300.0
_SLOWEST_RATE = 24_000  # a header holds samples, not seconds: judge at the lowest model rate

ProgressFactory = Callable[[float, str], tuple[ProgressCallback | None, Callable[[], None]]]


def is_long_audio(path: Path) -> bool:
    """Whether an audio file lasts at least :data:`LONG_INPUT_S`."""
    return read_audio_info(path).duration_s >= LONG_INPUT_S


def is_long_ecdc(path: Path) -> bool:
    """Whether an ``.ecdc`` file holds at least :data:`LONG_INPUT_S` of audio (at 24 kHz; half that at 48)."""
    with open(path, "rb") as fo:
        return read_header(fo).audio_length >= LONG_INPUT_S * _SLOWEST_RATE


def encode(args: argparse.Namespace, codec: Codec, lm: LMModel | None, make_progress: ProgressFactory) -> None:
    from codec.longform import encode_file

    progress, close = make_progress(read_audio_info(args.input).duration_s, "encode")
    try:
        result = encode_file(args.input, args.output, codec, args.bitrate, progress, lm)
    finally:
        close()
    size = Path(args.output).stat().st_size
    print(f"{args.output}: {size} bytes, {size * 8 / result.duration_s / 1000:.2f} kbps"
          f"{' with the LM' if lm else ''} ({result.num_codebooks} codebooks, {result.num_streams} stream(s))")


def decode(args: argparse.Namespace, codec_for: Callable[[str], Codec], lm_for: Callable[[str], LMModel | None],
           make_progress: ProgressFactory) -> None:
    from codec.longform import decode_file

    bar: list[tuple[Callable[[int, int], None] | None, Callable[[], None]]] = []

    def progress(done: int, total: int) -> None:
        # The bar appears with the first decoded block, after the header passed its checks, so a refused file
        # prints only its error line.
        if not bar:
            bar.append(make_progress(LONG_INPUT_S, "decode"))
        update = bar[0][0]
        if update is not None:
            update(done, total)

    try:
        decode_file(args.input, args.output, codec_for, progress, lm_for, subtype=args.subtype)
    finally:
        if bar:
            bar[0][1]()


def reconstruct(args: argparse.Namespace, codec: Codec, make_progress: ProgressFactory) -> None:
    from codec.longform import reconstruct_file

    progress, close = make_progress(read_audio_info(args.input).duration_s, "reconstruct")
    try:
        result = reconstruct_file(args.input, args.output, codec, args.bitrate, progress, subtype=args.subtype)
    finally:
        close()
    print(f"{args.output}: coded block by block ({result.num_codebooks} codebooks, {result.num_streams} stream(s))")

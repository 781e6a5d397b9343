"""``python -m codec`` / ``earbench-codec``: info, encode, decode and reconstruct from the command line."""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
import uuid
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import torch

from codec import longform_cli
from codec.api import Codec, ProgressCallback, load_codec
from codec.audio import read_audio, write_audio
from codec.catalog import DEFAULT_MODEL
from codec.ecdc import read_ecdc, write_ecdc
from codec.errors import BitstreamError, CodecError, InvalidAudioError, ModelNotFoundError
from codec.lm import LMModel, find_lm_checkpoint, load_lm

PROGRESS_MIN_DURATION_S = 30.0
SUBTYPES = ("FLOAT", "PCM_16", "PCM_24", "PCM_32")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="earbench-codec", description="EnCodec-compatible neural audio codec.")
    parser.add_argument("--threads", type=int, default=None,
                        help="CPU threads for inference (default: $OMP_NUM_THREADS, else torch's default)")
    sub = parser.add_subparsers(dest="command", required=True)

    info = sub.add_parser("info", help="describe a model")
    info.add_argument("model", help="model name (e.g. encodec_24khz) or checkpoint path")

    enc = sub.add_parser("encode", help="audio file -> .ecdc")
    enc.add_argument("input", type=Path)
    enc.add_argument("output", type=Path)
    _model_and_bitrate(enc)
    enc.add_argument("--lm", action="store_true",
                     help="entropy-code with the model's LM (smaller files, much slower; needs the LM checkpoint)")
    enc.add_argument("--lm-model", type=Path, default=None,
                     help="LM checkpoint (default: encodec_lm_*.th next to the model or in torch hub's cache)")
    _lm_threads(enc)

    dec = sub.add_parser("decode", help=".ecdc -> audio file (at the model's sample rate)")
    dec.add_argument("input", type=Path)
    dec.add_argument("output", type=Path)
    dec.add_argument("--model", help="model to decode with (default: the one named in the file)")
    dec.add_argument("--subtype", choices=SUBTYPES, default="FLOAT", help="output sample format (default FLOAT)")
    dec.add_argument("--lm-model", type=Path, default=None,
                     help="LM checkpoint for LM-coded files (default: found next to the model or in torch hub's cache)")
    _lm_threads(dec)

    rec = sub.add_parser("reconstruct", help="audio file -> coded and decoded audio file (same rate and channels)")
    rec.add_argument("input", type=Path)
    rec.add_argument("output", type=Path)
    _model_and_bitrate(rec)
    rec.add_argument("--subtype", choices=SUBTYPES, default="FLOAT", help="output sample format (default FLOAT)")

    from codec.evaluation import command as eval_command

    eval_command.add_parser(sub)
    return parser


def _lm_threads(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--lm-threads", type=int, default=1,
                        help="torch threads of the LM coder (default 1). An LM-coded file decodes only with the count "
                             "it was written with; encodec 0.1.1 writes with torch's default (the core count)")


def _model_and_bitrate(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--model", default=DEFAULT_MODEL,
                        help=f"model name or checkpoint path (default: {DEFAULT_MODEL}, the bundled model)")
    parser.add_argument("--bitrate", type=float, default=6.0, help="target bitrate in kbps (default 6)")


def set_threads(threads: int | None) -> int:
    """Apply ``--threads``, else ``$OMP_NUM_THREADS``; return the count in force."""
    if threads is None and os.environ.get("OMP_NUM_THREADS", "").isdigit():
        threads = int(os.environ["OMP_NUM_THREADS"])
    if threads is not None:
        if threads < 1:
            raise CodecError(f"--threads must be at least 1, got {threads}")
        torch.set_num_threads(threads)
    return torch.get_num_threads()


def _progress(duration_s: float, label: str) -> tuple[ProgressCallback | None, Callable[[], None]]:
    """A tqdm bar on stderr for inputs long enough to wait for; (callback, close)."""
    if duration_s < PROGRESS_MIN_DURATION_S:
        return None, lambda: None
    from tqdm import tqdm

    bar = tqdm(desc=label, unit="segment", file=sys.stderr, leave=False)

    def update(done: int, total: int) -> None:
        bar.total = total
        bar.n = done
        bar.refresh()

    return update, bar.close


def cmd_info(args: argparse.Namespace) -> None:
    codec = load_codec(args.model)
    config = codec.model.config
    params = sum(p.numel() for p in codec.model.parameters())
    print(f"name:          {codec.name}")
    print(f"file:          {codec.source}")
    print(f"sample rate:   {codec.sample_rate} Hz, {codec.channels} channel(s)")
    print(f"bitrates:      {', '.join(f'{b:g}' for b in codec.bitrates_kbps)} kbps")
    print(f"frame rate:    {config.frame_rate} Hz (hop {config.hop_length} samples), {config.quantizer.n_q} codebooks"
          f" of {config.quantizer.bins}")
    print(f"causal:        {config.seanet.causal}; segments: {config.segment_s or 'whole input'}")
    print(f"parameters:    {params / 1e6:.2f} M")
    if config.provenance:
        print(f"provenance:    {config.provenance}")
    if not codec.trained:
        print("weights:       UNTRAINED (random initialisation, for tests only): not a usable codec")


def _load(name_or_path: str) -> Codec:
    codec = load_codec(name_or_path)
    if not codec.trained:
        print(f"warning: {codec.name} has untrained random weights (tests only); its output is not a codec's",
              file=sys.stderr)
    return codec


def _find_lm(codec: Codec, args: argparse.Namespace, required: bool) -> LMModel | None:
    """The LM given by ``--lm-model``, else the official one found on disk (None, or an error if required), set to
    code with ``--lm-threads``."""
    if args.lm_threads < 1:
        raise CodecError(f"--lm-threads must be at least 1, got {args.lm_threads}")
    frame_rate = codec.model.config.frame_rate
    path = args.lm_model if args.lm_model is not None else find_lm_checkpoint(codec.name, codec.source)
    if path is not None:
        lm = load_lm(path, frame_rate)
        lm.coding_threads = args.lm_threads
        return lm
    if required:
        raise ModelNotFoundError(f"no LM checkpoint for {codec.name} next to the model or in torch hub's cache; "
                                 "pass --lm-model PATH")
    return None


def cmd_encode(args: argparse.Namespace) -> None:
    codec = _load(args.model)
    if longform_cli.is_long_audio(args.input):  # bounded memory, block by block
        lm = _find_lm(codec, args, required=True) if args.lm else None
        return longform_cli.encode(args, codec, lm, _progress)
    audio, sample_rate = read_audio(args.input)
    progress, close = _progress(audio.shape[1] / sample_rate, "encode")
    lm = _find_lm(codec, args, required=True) if args.lm else None
    encoded = codec.encode(audio, sample_rate, args.bitrate, progress)
    close()
    with open(args.output, "wb") as fo:
        write_ecdc(fo, encoded, lm)
    size = args.output.stat().st_size
    print(f"{args.output}: {size} bytes, {size * 8 / encoded.duration_s / 1000:.2f} kbps{' with the LM' if lm else ''} "
          f"({encoded.num_codebooks} codebooks, {encoded.num_streams} stream(s))")


def cmd_decode(args: argparse.Namespace) -> None:
    loaded: list[Codec] = []

    def codec_for(name: str) -> Codec:
        loaded.append(_load(args.model or name))
        return loaded[0]

    def lm_for(name: str) -> LMModel | None:
        return _find_lm(loaded[0], args, required=False)

    if longform_cli.is_long_ecdc(args.input):  # bounded memory, block by block
        return longform_cli.decode(args, codec_for, lm_for, _progress)
    with open(args.input, "rb") as fo:
        encoded = read_ecdc(fo, codec_for, lm_for)
    codec = loaded[0]
    progress, close = _progress(encoded.duration_s, "decode")
    try:
        audio = codec.decode(encoded, progress)
    except InvalidAudioError as exc:  # finite codes and scales can still overflow float32 once scaled
        scales = [float(s.scales.max()) for s in encoded.segments if s.scales is not None]
        raise BitstreamError(f"the file decodes to unusable audio ({exc})"
                             + (f"; its segment scales reach {max(scales):.3g}" if scales else "")) from None
    finally:
        close()
    with atomic_output(args.output) as partial:
        write_audio(partial, audio, encoded.input_sample_rate, subtype=args.subtype)


@contextlib.contextmanager
def atomic_output(path: Path) -> Iterator[Path]:
    """A hidden temporary path beside ``path``, with its extension, that replaces ``path`` only when the block succeeds.

    A failed or interrupted write leaves neither a partial file nor a changed ``path``; errors naming the temporary
    path are re-raised naming ``path``.
    """
    partial = path.with_name(f".{path.stem}.{uuid.uuid4().hex[:8]}.partial{path.suffix}")
    try:
        yield partial
        os.replace(partial, path)
    except CodecError as exc:
        partial.unlink(missing_ok=True)
        raise type(exc)(str(exc).replace(str(partial), str(path))) from None
    except BaseException:
        partial.unlink(missing_ok=True)
        raise


def cmd_reconstruct(args: argparse.Namespace) -> None:
    codec = _load(args.model)
    if longform_cli.is_long_audio(args.input):  # bounded memory, block by block
        return longform_cli.reconstruct(args, codec, _progress)
    audio, sample_rate = read_audio(args.input)
    progress, close = _progress(audio.shape[1] / sample_rate, "reconstruct")
    encoded = codec.encode(audio, sample_rate, args.bitrate, progress)
    out = codec.decode(encoded, progress)
    close()
    write_audio(args.output, out, sample_rate, subtype=args.subtype)
    print(f"{args.output}: {encoded.bitrate_kbps:.2f} kbps really spent ({encoded.num_codebooks} codebooks, "
          f"{encoded.num_streams} stream(s))")


def cmd_eval(args: argparse.Namespace) -> None:
    from codec.evaluation import command as eval_command

    eval_command.run(args)


COMMANDS = {
    "info": cmd_info, "encode": cmd_encode, "decode": cmd_decode, "reconstruct": cmd_reconstruct, "eval": cmd_eval,
}


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        set_threads(args.threads)
        COMMANDS[args.command](args)
    except CodecError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:  # a file the user named (missing, a folder, unreadable, name too long, disk full)
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0

"""Entropy coding of codebook indices with EnCodec's small streaming transformer LM (``.ecdc`` files with ``lm``).

- :mod:`codec.lm.model`: the LM, laid out so the official LM checkpoints load strictly.
- :mod:`codec.lm.coding`: the quantized CDF and the 24-bit arithmetic coder.
- :mod:`codec.lm.segment`: one segment's codes ``[K, T]`` to bytes and back, with the LM.
- :mod:`codec.lm.checkpoint`: finding and loading the official LM checkpoints.
"""

from __future__ import annotations

from codec.lm.checkpoint import LM_FILES, find_lm_checkpoint, lm_frame_rate, load_lm
from codec.lm.coding import ArithmeticDecoder, ArithmeticEncoder, build_stable_quantized_cdf
from codec.lm.model import LMModel, build_lm
from codec.lm.segment import decode_segment_codes, encode_segment_codes

__all__ = [
    "LM_FILES",
    "ArithmeticDecoder",
    "ArithmeticEncoder",
    "LMModel",
    "build_lm",
    "build_stable_quantized_cdf",
    "decode_segment_codes",
    "encode_segment_codes",
    "find_lm_checkpoint",
    "lm_frame_rate",
    "load_lm",
]

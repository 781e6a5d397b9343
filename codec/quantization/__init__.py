"""Residual vector quantization (Euclidean codebooks, EMA, k-means init, dead-code replacement)."""

from codec.quantization.rvq import (
    QuantizedResult,
    ResidualVectorQuantizer,
    bitrate_per_codebook_kbps,
    check_bitrate,
    codebooks_for_bitrate,
)

__all__ = [
    "QuantizedResult",
    "ResidualVectorQuantizer",
    "bitrate_per_codebook_kbps",
    "check_bitrate",
    "codebooks_for_bitrate",
]

"""Algorithmic latency of causal streaming (encoder + decoder), computed from the layers' padding rules.

Output sample ``t`` can only be computed once input sample ``need(t) - 1`` has arrived; its latency is
``need(t) - t`` samples. Two numbers matter:

* steady state: the encoder waits for whole internal blocks of ``block_frames · hop`` samples (causal convs look
  no further ahead than the end of their frame), and the causal decoder needs no future frames, so
  ``block_frames · hop`` (320 samples = 13.3 ms at 24 kHz with one-frame blocks);
* start-up: the reference reflect-pads the start of the signal, so the first outputs of each conv mirror later
  inputs and wait for them (``k - s`` samples per conv, at its own rate; the frame-rate convs of kernel 7 wait 6
  frames each). A player that starts at the first output and then plays on without gaps runs behind by the
  maximum over all ``t``: that is :attr:`StreamingLatency.samples`.
"""

from __future__ import annotations

from dataclasses import dataclass

from codec.model import EncodecModel
from codec.streaming.causal import check_streamable
from codec.streaming.stack import wrap_stack


@dataclass(frozen=True)
class StreamingLatency:
    """Latencies in samples at ``sample_rate``; ``*_ms`` convert them."""

    sample_rate: int
    steady_state_samples: int
    samples: int
    first_output_samples: int

    @property
    def steady_state_ms(self) -> float:
        return 1000 * self.steady_state_samples / self.sample_rate

    @property
    def ms(self) -> float:
        return 1000 * self.samples / self.sample_rate


def latency(model: EncodecModel, block_frames: int = 1, horizon_frames: int = 400) -> StreamingLatency:
    """Latency of :class:`~codec.streaming.StreamingEncoder` + :class:`~codec.streaming.StreamingDecoder`.

    ``first_output_samples`` is how many input samples the first decoded sample waits for. Computed from output
    counts alone (no arithmetic on audio), over the first ``horizon_frames`` frames, past every start-up effect.
    """
    check_streamable(model)
    hop = model.config.hop_length
    block = block_frames * hop
    encoder, decoder = wrap_stack(model.encoder.model), wrap_stack(model.decoder.model)

    def ready(n: int) -> int:
        """Decoded samples ready once ``n`` input samples (a multiple of the block) have arrived."""
        frames = encoder.count(n)
        return decoder.count(frames // block_frames * block_frames)

    worst, first, previous = 0, 0, 0
    for j in range(1, horizon_frames // block_frames + 1):
        now = ready(j * block)
        if now > previous:
            worst = max(worst, j * block - previous)  # sample `previous` is the earliest released at this block
            first = first or j * block
        previous = now
    return StreamingLatency(model.config.sample_rate, block, worst, first)

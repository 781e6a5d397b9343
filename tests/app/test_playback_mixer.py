"""The mixing logic of the playback engine, driven block by block with fake output buffers (no device)."""

from __future__ import annotations

import tracemalloc

import numpy as np
import pytest

from app.audio.mixer import SourceMixer, raised_cosine_ramps

RATE = 48_000
FADE = 240  # 5 ms at 48 kHz
BLOCK = 512


def index_ramps(length: int = RATE, channels: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """Source A carries +(k+1)/T at sample k, source B -(k+1)/T: the output tells which source and which index."""
    ramp = (np.arange(1, length + 1, dtype=np.float32) / length)[:, None]
    ramp = np.repeat(ramp, channels, axis=1)
    return ramp, -ramp


def render(mixer: SourceMixer, blocks: int, channels: int = 2, block: int = BLOCK) -> np.ndarray:
    out = [np.full((block, channels), np.nan, dtype=np.float32) for _ in range(blocks)]
    for buffer in out:
        mixer.render(buffer)
    return np.concatenate(out)


def test_ramps_are_raised_cosine_5ms() -> None:
    fade_in, fade_out = raised_cosine_ramps(FADE)
    k = np.arange(FADE)
    np.testing.assert_allclose(fade_in[:, 0], 0.5 - 0.5 * np.cos(np.pi * k / FADE), atol=1e-6)
    assert fade_in[0, 0] == 0.0 and fade_out[-1, 0] == 0.0
    np.testing.assert_array_equal(fade_out[:, 0], fade_in[::-1, 0])
    assert SourceMixer([np.zeros((10, 1), np.float32)], RATE).fade_samples == FADE


def test_start_fades_in_and_index_runs_from_zero() -> None:
    a, b = index_ramps()
    mixer = SourceMixer([a, b], RATE, channels_out=2)
    mixer.play()
    out = render(mixer, 2)
    fade_in, _ = raised_cosine_ramps(FADE)
    np.testing.assert_allclose(out[:FADE, 0], a[:FADE, 0] * fade_in[:, 0], atol=1e-7)
    np.testing.assert_array_equal(out[FADE:, 0], a[FADE : 2 * BLOCK, 0])
    np.testing.assert_array_equal(out[:, 0], out[:, 1])  # mono plays on both channels
    assert mixer.position_samples == 2 * BLOCK and mixer.playing


def test_switch_is_sample_synchronous_fade_out_then_fade_in() -> None:
    a, b = index_ramps()
    mixer = SourceMixer([a, b], RATE, channels_out=2)
    mixer.play()
    render(mixer, 4)
    switch_at = mixer.position_samples  # the request is taken at the next block's first sample
    mixer.select_source(1)
    out = render(mixer, 4)[:, 0]
    index = np.arange(switch_at, switch_at + len(out))
    fade_in, fade_out = raised_cosine_ramps(FADE)
    expected = np.concatenate(
        [
            a[index[:FADE], 0] * fade_out[:, 0],
            b[index[FADE : 2 * FADE], 0] * fade_in[:, 0],
            b[index[2 * FADE :], 0],
        ]
    )
    np.testing.assert_allclose(out, expected, atol=1e-7)
    # No sample mixes the two: before the zero crossing only A (>= 0), after it only B (<= 0).
    assert (out[:FADE] >= 0).all() and (out[FADE:] <= 0).all()
    assert mixer.active_source == 1 and mixer.position_samples == switch_at + len(out)


def test_switch_back_during_fade_in_reverses_without_a_jump() -> None:
    a, b = index_ramps()
    mixer = SourceMixer([a, b], RATE, channels_out=1)
    mixer.play()
    render(mixer, 2, channels=1)
    mixer.select_source(1)
    render(mixer, 1, channels=1, block=FADE + 100)  # A faded out, B faded in for 100 samples
    mixer.select_source(0)
    out = render(mixer, 2, channels=1)[:, 0]
    gains = out[:100] / b[mixer.position_samples - len(out) : mixer.position_samples - len(out) + 100, 0]
    assert gains[0] == pytest.approx(raised_cosine_ramps(FADE)[0][99, 0], abs=1e-6)  # continues from the same gain
    assert (np.diff(gains) <= 1e-6).all()  # and only goes down to zero
    assert mixer.active_source == 0


def test_stop_fades_to_zero_and_keeps_position() -> None:
    a, _ = index_ramps()
    mixer = SourceMixer([a], RATE, channels_out=2)
    mixer.play()
    render(mixer, 3)
    stop_at = mixer.position_samples
    mixer.stop()
    out = render(mixer, 2)[:, 0]
    _, fade_out = raised_cosine_ramps(FADE)
    np.testing.assert_allclose(out[:FADE], a[stop_at : stop_at + FADE, 0] * fade_out[:, 0], atol=1e-7)
    assert (out[FADE:] == 0).all() and out[FADE - 1] == 0
    assert not mixer.playing and mixer.position_samples == stop_at + FADE


def test_loop_wraps_with_faded_edges() -> None:
    a, _ = index_ramps()
    mixer = SourceMixer([a], RATE, channels_out=1)
    start, end = 1000, 1000 + RATE // 2  # a 500 ms loop
    mixer.set_loop(start, end)
    mixer.play()
    out = render(mixer, 60, channels=1)[:, 0]  # 30720 samples: one wrap
    fade_in, fade_out = raised_cosine_ramps(FADE)
    length = end - start
    # Starts at the loop start (outside the loop, so it jumps there), fading in.
    np.testing.assert_allclose(out[:FADE], a[start : start + FADE, 0] * fade_in[:, 0] * fade_in[:, 0], atol=1e-7)
    # The loop end fades out to zero, and the wrap fades in from zero at the loop start.
    np.testing.assert_allclose(out[length - FADE : length], a[end - FADE : end, 0] * fade_out[:, 0], atol=1e-7)
    np.testing.assert_allclose(out[length : length + FADE], a[start : start + FADE, 0] * fade_in[:, 0], atol=1e-7)
    np.testing.assert_array_equal(out[length + FADE :], a[start + FADE : start + len(out) - length, 0])
    assert mixer.position_samples == start + len(out) - length


def test_end_of_item_fades_out_stops_and_rewinds() -> None:
    a, _ = index_ramps(length=3000)
    mixer = SourceMixer([a], RATE, channels_out=1)
    mixer.play()
    out = render(mixer, 8, channels=1)[:, 0]
    _, fade_out = raised_cosine_ramps(FADE)
    np.testing.assert_allclose(out[3000 - FADE : 3000], a[-FADE:, 0] * fade_out[:, 0], atol=1e-7)
    assert (out[3000:] == 0).all()
    assert not mixer.playing and mixer.position_samples == 0


def test_seek_while_playing_fades_out_jumps_and_fades_in() -> None:
    a, _ = index_ramps()
    mixer = SourceMixer([a], RATE, channels_out=1)
    mixer.play()
    render(mixer, 2, channels=1)
    here = mixer.position_samples
    mixer.seek(20_000)
    out = render(mixer, 2, channels=1)[:, 0]
    fade_in, fade_out = raised_cosine_ramps(FADE)
    np.testing.assert_allclose(out[:FADE], a[here : here + FADE, 0] * fade_out[:, 0], atol=1e-7)
    np.testing.assert_allclose(out[FADE : 2 * FADE], a[20_000 : 20_000 + FADE, 0] * fade_in[:, 0], atol=1e-7)
    assert mixer.position_samples == 20_000 + 2 * BLOCK - FADE


def test_seek_while_stopped_moves_the_index_only() -> None:
    a, _ = index_ramps()
    mixer = SourceMixer([a], RATE, channels_out=1)
    mixer.seek(12_345)
    out = render(mixer, 1, channels=1)
    assert (out == 0).all() and mixer.position_samples == 12_345 and not mixer.playing


def test_adding_a_source_while_playing_does_not_interrupt() -> None:
    a, b = index_ramps()
    mixer = SourceMixer([a], RATE, channels_out=1)
    mixer.play()
    render(mixer, 2, channels=1)
    mixer.replace_sources([a, b])
    here = mixer.position_samples
    out = render(mixer, 1, channels=1)[:, 0]
    np.testing.assert_array_equal(out, a[here : here + BLOCK, 0])
    mixer.select_source(1)
    out = render(mixer, 2, channels=1)[:, 0]
    assert out[FADE] == 0 and (out[FADE + 1 :] < 0).all() and mixer.active_source == 1


def test_replacing_the_active_source_fades_through_zero() -> None:
    a, b = index_ramps()
    mixer = SourceMixer([a, b], RATE, channels_out=1)
    mixer.select_source(1)
    mixer.play()
    render(mixer, 2, channels=1)
    mixer.replace_sources([a, -b])  # a new reconstruction at another bitrate
    out = render(mixer, 2, channels=1)[:, 0]
    assert (out[:FADE] <= 0).all() and out[FADE - 1] == 0 and (out[FADE:] >= 0).all()


def test_stereo_sources_keep_their_channels() -> None:
    left = np.ones((4000, 1), np.float32)
    stereo = np.concatenate([left, -left], axis=1)
    mixer = SourceMixer([stereo], RATE)
    mixer.play()
    out = render(mixer, 2)
    assert (out[FADE:, 0] == 1).all() and (out[FADE:, 1] == -1).all()


def test_invalid_requests_raise() -> None:
    a, b = index_ramps()
    with pytest.raises(ValueError, match="shape"):
        SourceMixer([a, b[:-1]], RATE)
    with pytest.raises(ValueError, match="fade_ms"):
        SourceMixer([a], RATE, fade_ms=25)
    mixer = SourceMixer([a, b], RATE)
    with pytest.raises(ValueError, match="source index"):
        mixer.select_source(2)
    with pytest.raises(ValueError, match="longer"):
        mixer.set_loop(0, 2 * FADE)


def test_render_allocates_no_sample_buffers() -> None:
    a, b = index_ramps(length=10 * RATE, channels=1)
    mixer = SourceMixer([a, b], RATE, channels_out=2)
    mixer.set_loop(RATE, 3 * RATE)
    out = np.zeros((1024, 2), np.float32)  # one block is 8 KiB: any temporary of it would show
    mixer.play()
    for _ in range(20):
        mixer.render(out)
    tracemalloc.start()
    try:
        before, _ = tracemalloc.get_traced_memory()
        tracemalloc.reset_peak()
        for i in range(600):  # covers fades, switches, loop wraps, a stop and a restart
            if i % 7 == 0:
                mixer.select_source((i // 7) % 2)
            if i == 500:
                mixer.stop()
            if i == 520:
                mixer.play()
            mixer.render(out)
        after, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert after - before < 512, "render() keeps memory"
    assert peak - before < 2048, "render() allocated a temporary buffer"

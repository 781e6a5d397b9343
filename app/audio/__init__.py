"""Playback: one output stream, preloaded sources, sample-synchronous switching (sounddevice + numpy, no Qt)."""

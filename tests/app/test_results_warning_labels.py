"""The listening results view names conditions by their design labels in the analysis warnings too."""

from __future__ import annotations

from app.ui.listening.results_tables import labelled_warning

LABELS = {"model_24": "EarBench 24 kbps", "reference": "Hidden reference"}


def test_a_multimodality_warning_names_the_condition_by_its_label() -> None:
    warning = "Ratings of model_24 may be multimodal (b = 0.71 > 5/9)."
    assert labelled_warning(warning, LABELS) == "Ratings of EarBench 24 kbps may be multimodal (b = 0.71 > 5/9)."


def test_unknown_ids_and_other_warnings_are_left_alone() -> None:
    unknown = "Ratings of opus_12 may be multimodal (b = 0.60 > 5/9)."
    assert labelled_warning(unknown, LABELS) == unknown
    other = "No hidden reference and both anchors: this is a MUSHRA-like test, not MUSHRA (BS.1534-3)."
    assert labelled_warning(other, LABELS) == other

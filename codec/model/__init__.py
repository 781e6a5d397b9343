"""Model building blocks (streamable convs, SEANet, LSTM) and the assembled EnCodec model."""

from codec.model.encodec import EncodecModel, EncodedSegment, build_model, linear_overlap_add

__all__ = ["EncodecModel", "EncodedSegment", "build_model", "linear_overlap_add"]

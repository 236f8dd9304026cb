"""Image preprocessing for prediction: from a drawing or photo to an MNIST-like 28x28 (NumPy + Pillow)."""

from .decode import (
    DRAWING_MAX_PIXELS,
    MAX_BYTES,
    MAX_PIXELS,
    MAX_SIDE,
    EmptyDrawingError,
    ImageError,
    decode_data_url,
    open_image,
    peek,
    pixels,
)
from .pipeline import Preprocessed, pixels_to_input, preprocess

__all__ = ["DRAWING_MAX_PIXELS", "MAX_BYTES", "MAX_PIXELS", "MAX_SIDE", "EmptyDrawingError", "ImageError",
           "Preprocessed", "decode_data_url", "open_image", "peek", "pixels", "pixels_to_input", "preprocess"]

"""Image preprocessing for prediction: from a drawing or photo to an MNIST-like 28x28 (NumPy + Pillow)."""

from .decode import MAX_BYTES, MAX_SIDE, EmptyDrawingError, ImageError, decode_data_url, open_image
from .pipeline import Preprocessed, pixels_to_input, preprocess

__all__ = ["MAX_BYTES", "MAX_SIDE", "EmptyDrawingError", "ImageError", "Preprocessed", "decode_data_url",
           "open_image", "pixels_to_input", "preprocess"]

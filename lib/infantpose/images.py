"""The one image reader of the package: whole, decoded pixels or an error naming the file.

OpenCV's ``imread`` decodes a truncated JPEG without complaint (the missing rows come back
grey), so a damaged download would train and score silently. Every image the package reads
(training crops, video frames, widgets, dataset loaders, backgrounds) goes through
:func:`read_image`, which decodes with Pillow and raises :class:`ImageReadError` on a
missing, empty, truncated or undecodable file, and on a decompression bomb.

Pixels come back as stored: EXIF orientation is not applied, as in the reference FiDIP/HRNet
reader (``IMREAD_IGNORE_ORIENTATION``), so they match the annotation's ``width``/``height``.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

__all__ = ["IMAGE_MODES", "ImageReadError", "image_size", "read_image"]

#: ``RGB``/``BGR``: (H, W, 3) uint8; ``L``: (H, W) uint8; ``unchanged``: as stored (e.g. a
#: 16-bit depth PNG or a 1-channel mask).
IMAGE_MODES = ("RGB", "BGR", "L", "unchanged")

_FIX = "the file is truncated or damaged: copy or export it again, or drop its record"


class ImageReadError(OSError):
    """An image file that is missing or cannot be decoded completely; the message names it."""


def _open(path: Path):
    from PIL import Image, UnidentifiedImageError

    if not path.exists():
        raise ImageReadError(f"{path}: no such image file; check the path and the image root")
    if not path.is_file():
        raise ImageReadError(f"{path} is not a file; pass the path of an image")
    if path.stat().st_size == 0:
        raise ImageReadError(f"{path}: the image file is empty; {_FIX}")
    try:
        return Image.open(path)
    except UnidentifiedImageError:
        raise ImageReadError(
            f"{path}: not an image format Pillow can read (JPEG, PNG, BMP, TIFF, ...); {_FIX}"
        ) from None
    except Image.DecompressionBombError as error:
        raise ImageReadError(f"{path}: refused as a decompression bomb ({error})") from None
    except OSError as error:
        raise ImageReadError(f"{path}: cannot read the image header ({error}); {_FIX}") from None


def read_image(path: str | os.PathLike, *, mode: str = "RGB") -> np.ndarray:
    """The fully decoded pixels of the image file ``path`` (see :data:`IMAGE_MODES`)."""
    from PIL import Image, ImageFile

    if mode not in IMAGE_MODES:
        raise ValueError(f"read_image: mode={mode!r}; use one of {', '.join(IMAGE_MODES)}")
    path = Path(path)
    image = _open(path)
    strict = ImageFile.LOAD_TRUNCATED_IMAGES
    ImageFile.LOAD_TRUNCATED_IMAGES = False  # whatever another library set: never pad with grey
    try:
        with image:
            image.load()
            if mode in ("RGB", "BGR") and image.mode != "RGB":
                image = image.convert("RGB")
            elif mode == "L" and image.mode != "L":
                image = image.convert("L")
            pixels = np.asarray(image)
    except Image.DecompressionBombError as error:
        raise ImageReadError(f"{path}: refused as a decompression bomb ({error})") from None
    except Exception as error:  # truncated and corrupt files fail in many ways
        raise ImageReadError(
            f"{path}: cannot decode the image ({type(error).__name__}: {error}); {_FIX}"
        ) from None
    finally:
        ImageFile.LOAD_TRUNCATED_IMAGES = strict
    if mode == "BGR":
        return np.ascontiguousarray(pixels[..., ::-1])
    return pixels if pixels.flags.writeable else pixels.copy()


def image_size(path: str | os.PathLike) -> tuple[int, int]:
    """``(width, height)`` from the header of the image file ``path`` (nothing is decoded)."""
    path = Path(path)
    with _open(path) as image:
        return image.size

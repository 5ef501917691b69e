"""Photo-like post-processing of a rendered image: what a phone camera adds to a clean render.

In the order a camera applies them: white-balance / colour shift, vignetting (lens), defocus or
motion blur (optics, movement), sensor noise (shot noise ∝ √signal plus read noise), JPEG
compression at quality 60-95. :func:`sample_photo_effects` draws the parameters (a
:class:`PhotoEffects`, stored in the dataset's appearance record); :func:`apply_photo_effects`
applies them, drawing the noise itself from the Generator it is given.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

__all__ = ["PhotoEffects", "apply_photo_effects", "jpeg_roundtrip", "sample_photo_effects"]


@dataclass(frozen=True)
class PhotoEffects:
    """Parameters of :func:`apply_photo_effects` (``None``/0 switches an effect off)."""

    white_balance: tuple[float, float, float] = (1.0, 1.0, 1.0)  # RGB gains
    vignetting: float = 0.0  # brightness lost in the corners (0.3: 30 %)
    blur: str = "none"  # "none", "defocus", "motion"
    blur_size: float = 0.0  # Gaussian sigma (defocus) or streak length (motion), pixels
    blur_angle: float = 0.0  # radians, motion blur direction
    shot_noise: float = 0.0  # std of the noise at full signal (scales with √signal)
    read_noise: float = 0.0  # std of the signal-independent noise, in [0, 1] units
    jpeg_quality: int | None = None

    def to_record(self) -> dict[str, Any]:
        record = asdict(self)
        for key, value in record.items():
            if isinstance(value, float):
                record[key] = round(value, 5)
        record["white_balance"] = [round(float(g), 5) for g in self.white_balance]
        return record


def sample_photo_effects(
    rng: np.random.Generator, jpeg_quality: tuple[int, int] = (60, 95)
) -> PhotoEffects:
    """Random phone-camera effects: mild, as in typical infant photos."""
    warm = rng.uniform(-0.08, 0.12)  # mostly warm indoor light
    wb = (1.0 + warm, 1.0 + rng.uniform(-0.03, 0.03), 1.0 - warm)
    blur = ("none", "defocus", "motion")[int(rng.choice(3, p=[0.35, 0.4, 0.25]))]
    size = {"none": 0.0, "defocus": rng.uniform(0.5, 1.5), "motion": rng.uniform(2.0, 6.0)}[blur]
    return PhotoEffects(
        white_balance=tuple(float(g) for g in wb),  # type: ignore[arg-type]
        vignetting=float(rng.uniform(0.05, 0.35)),
        blur=blur,
        blur_size=float(size),
        blur_angle=float(rng.uniform(0, math.pi)),
        shot_noise=float(rng.uniform(0.005, 0.03)),
        read_noise=float(rng.uniform(0.002, 0.012)),
        jpeg_quality=int(rng.integers(jpeg_quality[0], jpeg_quality[1] + 1)),
    )


def _motion_kernel(length: float, angle: float) -> np.ndarray:
    size = max(math.ceil(length) | 1, 3)
    kernel = np.zeros((size, size), np.float32)
    c = (size - 1) / 2
    for s in np.linspace(-length / 2, length / 2, 4 * size):
        x, y = c + s * math.cos(angle), c + s * math.sin(angle)
        kernel[round(y), round(x)] += 1.0
    return kernel / kernel.sum()


def jpeg_roundtrip(rgb: np.ndarray, quality: int) -> np.ndarray:
    """Encode ``(H, W, 3)`` uint8 RGB as JPEG at ``quality`` and decode it again."""
    import cv2

    ok, buffer = cv2.imencode(".jpg", rgb[..., ::-1], [cv2.IMWRITE_JPEG_QUALITY, int(quality)])
    if not ok:  # pragma: no cover - cv2 always encodes uint8 images
        raise RuntimeError("JPEG encoding failed")
    return cv2.imdecode(buffer, cv2.IMREAD_COLOR)[..., ::-1].copy()


def apply_photo_effects(
    rgb: np.ndarray, effects: PhotoEffects, rng: np.random.Generator
) -> np.ndarray:
    """``(H, W, 3)`` uint8 RGB with ``effects`` applied (noise drawn from ``rng``)."""
    import cv2

    image = rgb.astype(np.float32) / 255.0
    image *= np.asarray(effects.white_balance, np.float32)
    height, width = image.shape[:2]
    if effects.vignetting > 0:
        y, x = np.ogrid[0:height, 0:width]
        r2 = ((x - (width - 1) / 2) / (width / 2)) ** 2 + (
            (y - (height - 1) / 2) / (height / 2)
        ) ** 2
        image *= (1.0 - effects.vignetting * (r2 / 2).astype(np.float32))[..., None]
    if effects.blur == "defocus" and effects.blur_size > 0:
        image = cv2.GaussianBlur(image, (0, 0), effects.blur_size)
    elif effects.blur == "motion" and effects.blur_size > 0:
        image = cv2.filter2D(image, -1, _motion_kernel(effects.blur_size, effects.blur_angle))
    if effects.shot_noise > 0 or effects.read_noise > 0:
        signal = np.clip(image, 0.0, 1.0)
        sigma = np.sqrt(effects.shot_noise**2 * signal + effects.read_noise**2)
        image = signal + sigma * rng.standard_normal(image.shape, dtype=np.float32)
    out = np.clip(np.round(image * 255.0), 0, 255).astype(np.uint8)
    if effects.jpeg_quality is not None:
        out = jpeg_roundtrip(out, effects.jpeg_quality)
    return out

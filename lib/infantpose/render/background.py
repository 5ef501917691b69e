"""Backgrounds: procedural scenes an infant lies or sits in, and natural photos shipped in packages.

Procedural kinds (:data:`PROCEDURAL_KINDS`), all deterministic under a numpy Generator:
``floor`` (wooden planks), ``blanket`` (soft checks or knit with folds), ``crib`` (bars over a
blanket), ``gradient``, ``noise`` (a coloured smooth random field) and ``room`` (a wall over a
floor, with a skirting board).

Natural photos (:data:`NATURAL_PHOTOS`) are files that installed registry packages ship under
permissive licences; nothing is downloaded. Each use takes a random crop (scale and position),
a random horizontal flip and a random colour shift, so two photos give many backgrounds.

==============================  ==========================  ======================================
file                            package (path)              licence and author
==============================  ==========================  ======================================
``china.jpg`` (640×427)         scikit-learn                CC BY 2.0, danielbuechele (Flickr),
                                (sklearn/datasets/images)   per the package's README.txt
``flower.jpg`` (640×427)        scikit-learn                CC BY 2.0, vultilion (Flickr), per the
                                (sklearn/datasets/images)   package's README.txt
==============================  ==========================  ======================================

Looked at and left out: matplotlib's ``sample_data/grace_hopper.jpg`` (a portrait: an unlabelled
person in the background would teach a pose network wrong negatives) and its logo/plot images;
scipy's ``face``/``ascent`` need a download (pooch). The record of every background says which
file it came from, so a dataset built from them can give the attribution CC BY asks for.
"""

from __future__ import annotations

import functools
import importlib.util
import math
from pathlib import Path
from typing import Any

import numpy as np

from .appearance import smooth_noise

__all__ = [
    "NATURAL_PHOTOS",
    "PROCEDURAL_KINDS",
    "natural_photo_paths",
    "procedural_background",
    "sample_background",
]

PROCEDURAL_KINDS: tuple[str, ...] = ("floor", "blanket", "crib", "gradient", "noise", "room")

#: name -> (package, path inside it, licence, attribution)
NATURAL_PHOTOS: dict[str, tuple[str, str, str, str]] = {
    "china.jpg": ("sklearn", "datasets/images/china.jpg", "CC BY 2.0", "danielbuechele (Flickr)"),
    "flower.jpg": ("sklearn", "datasets/images/flower.jpg", "CC BY 2.0", "vultilion (Flickr)"),
}


def natural_photo_paths() -> dict[str, Path]:
    """The natural photos found in this environment (name -> path); missing ones are left out."""
    found = {}
    for name, (package, inner, _, _) in NATURAL_PHOTOS.items():
        spec = importlib.util.find_spec(package)  # finds the package without importing it
        if spec is None or not spec.submodule_search_locations:
            continue
        path = Path(next(iter(spec.submodule_search_locations))) / inner
        if path.is_file():
            found[name] = path
    return found


@functools.lru_cache(maxsize=8)
def _load_photo(path: str) -> np.ndarray:
    from ..images import read_image

    return read_image(path, mode="RGB")


def _grid(width: int, height: int) -> tuple[np.ndarray, np.ndarray]:
    y, x = np.mgrid[0:height, 0:width].astype(np.float32)
    return x, y


def _colour(rng: np.random.Generator, low: float = 0.2, high: float = 0.95) -> np.ndarray:
    import colorsys

    hue, sat, val = rng.uniform(), rng.uniform(0.05, 0.6), rng.uniform(low, high)
    return np.asarray(colorsys.hsv_to_rgb(hue, sat, val), dtype=np.float32)


def _noise2(x: np.ndarray, y: np.ndarray, scale: float, seed: int, waves: int = 10) -> np.ndarray:
    """Smooth noise on the pixel grid of ``x``, ``y``: computed on a coarse grid, then resized."""
    import cv2

    height, width = x.shape
    step = max(1, min(8, int(scale / 6)))  # a few samples per noise period stay smooth
    coarse_y, coarse_x = np.mgrid[0 : height + step : step, 0 : width + step : step].astype(
        np.float32
    )
    points = np.stack([coarse_x.ravel(), coarse_y.ravel()], axis=1)
    coarse = smooth_noise(points, scale, seed, waves).reshape(coarse_x.shape).astype(np.float32)
    if step == 1:
        return coarse[:height, :width]
    full = cv2.resize(
        coarse, (coarse.shape[1] * step, coarse.shape[0] * step), interpolation=cv2.INTER_LINEAR
    )
    return np.ascontiguousarray(full[:height, :width])


def _planks(rng: np.random.Generator, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Wooden planks running across the image, each a slightly different tone, with grain."""
    height = y.shape[0]
    plank = rng.uniform(0.08, 0.2) * height
    angle = rng.uniform(-0.3, 0.3)
    across = y * math.cos(angle) + x * math.sin(angle)
    along = x * math.cos(angle) - y * math.sin(angle)
    index = np.floor(across / plank)
    base = _colour(rng, 0.35, 0.85) * 0.5 + np.array([0.55, 0.38, 0.22], np.float32) * 0.5
    tone = 1.0 + 0.12 * np.sin(index * 12.9898 + rng.uniform(0, 6.28))  # per-plank tone
    grain = 0.06 * np.sin(
        along / rng.uniform(2, 6) + 3 * _noise2(x, y, 40.0, int(rng.integers(1e9)))
    )
    seam = (across % plank) < 1.5
    image = base[None, None] * (tone + grain)[..., None]
    image[seam] *= 0.6
    return image


def procedural_background(rng: np.random.Generator, size: tuple[int, int], kind: str) -> np.ndarray:
    """A ``(H, W, 3)`` float32 image in [0, 1] of the given procedural ``kind``."""
    width, height = size
    x, y = _grid(width, height)
    seed = int(rng.integers(2**31))
    if kind == "gradient":
        a, b = _colour(rng), _colour(rng)
        angle = rng.uniform(0, 2 * math.pi)
        s = x * math.cos(angle) + y * math.sin(angle)
        s = (s - s.min()) / max(float(np.ptp(s)), 1e-6)
        image = (1 - s)[..., None] * a + s[..., None] * b
    elif kind == "noise":
        a, b = _colour(rng), _colour(rng)
        field = 0.5 + 0.5 * _noise2(x, y, rng.uniform(0.1, 0.6) * height, seed)
        image = (1 - field)[..., None] * a + field[..., None] * b
    elif kind == "floor":
        image = _planks(rng, x, y)
    elif kind in ("blanket", "crib"):
        a, b = _colour(rng, 0.6, 1.0), _colour(rng, 0.5, 1.0)
        cell = rng.uniform(0.05, 0.25) * height
        if rng.uniform() < 0.5:  # checks
            checks = ((x // cell + y // cell) % 2).astype(np.float32)
        else:  # knit: soft ribs
            checks = 0.5 + 0.5 * np.sin(2 * math.pi * x / (cell / 4)).astype(np.float32)
            checks *= 0.3
        image = (1 - checks)[..., None] * a + checks[..., None] * b
        folds = 1.0 + 0.12 * _noise2(x, y, rng.uniform(0.3, 0.8) * height, seed)  # soft folds
        image = image * folds[..., None]
        if kind == "crib":
            spacing = rng.uniform(0.08, 0.15) * width
            bar = rng.uniform(0.15, 0.3) * spacing
            bar_colour = (
                _colour(rng, 0.7, 1.0) if rng.uniform() < 0.6 else np.array([0.6, 0.42, 0.25])
            )
            bars = (x % spacing) < bar
            rail = (y < 0.08 * height) | (y > 0.92 * height)
            image = image * 0.85  # the mattress lies behind the bars, in their shade
            image[bars | rail] = (
                bar_colour
                * (0.9 + 0.1 * np.cos(2 * math.pi * (x[bars | rail] % spacing) / bar))[:, None]
            )
    elif kind == "room":
        horizon = rng.uniform(0.3, 0.7) * height
        wall = _colour(rng, 0.6, 0.95)
        image = np.empty((height, width, 3), np.float32)
        image[:] = wall * (1.0 + 0.05 * _noise2(x, y, 0.5 * height, seed))[..., None]
        floor = (
            _planks(rng, x, y) if rng.uniform() < 0.6 else procedural_background(rng, size, "noise")
        )
        below = y >= horizon
        image[below] = floor[below]
        skirting = (y >= horizon - 0.03 * height) & (y < horizon)
        image[skirting] = _colour(rng, 0.8, 1.0)
        # Light falls off away from a window: a broad horizontal ramp.
        image *= (0.8 + 0.2 * (x / width if rng.uniform() < 0.5 else 1 - x / width))[..., None]
    else:
        raise ValueError(
            f"unknown background kind {kind!r}; procedural kinds: {', '.join(PROCEDURAL_KINDS)}"
        )
    return np.clip(image, 0.0, 1.0).astype(np.float32)


def _natural_background(
    rng: np.random.Generator, size: tuple[int, int], name: str, path: Path
) -> tuple[np.ndarray, dict[str, Any]]:
    import cv2

    width, height = size
    photo = _load_photo(str(path))
    ph, pw = photo.shape[:2]
    # Largest crop with the output's aspect ratio, scaled by a random factor.
    aspect = width / height
    crop_h = min(ph, pw / aspect) * rng.uniform(0.45, 1.0)
    crop_w = crop_h * aspect
    x0 = rng.uniform(0, pw - crop_w)
    y0 = rng.uniform(0, ph - crop_h)
    flip = bool(rng.uniform() < 0.5)
    gains = rng.uniform(0.85, 1.15, size=3).astype(np.float32)
    brightness = float(rng.uniform(0.7, 1.1))
    x0i, y0i = int(x0), int(y0)
    crop = photo[y0i : y0i + int(crop_h), x0i : x0i + int(crop_w)]
    image = cv2.resize(crop, (width, height), interpolation=cv2.INTER_AREA).astype(np.float32) / 255
    if flip:
        image = image[:, ::-1]
    image = np.clip(image * gains * brightness, 0.0, 1.0)
    package, _, licence, author = NATURAL_PHOTOS[name]
    record = {
        "kind": "photo",
        "source": f"{package}:{name}",
        "licence": licence,
        "author": author,
        "crop": [x0i, y0i, int(crop_w), int(crop_h)],
        "flip": flip,
        "gains": [round(float(g * brightness), 4) for g in gains],
    }
    return np.ascontiguousarray(image), record


def sample_background(
    rng: np.random.Generator,
    size: tuple[int, int],
    kinds: tuple[str, ...] = PROCEDURAL_KINDS,
    natural_probability: float = 0.0,
) -> tuple[np.ndarray, dict[str, Any]]:
    """A random background ``(H, W, 3)`` float32 in [0, 1] and its record (kind, source, ...).

    With probability ``natural_probability`` a natural photo (if any is installed), else a
    procedural one of ``kinds``.
    """
    use_photo = rng.uniform() < natural_probability
    kind = kinds[int(rng.integers(len(kinds)))] if kinds else "gradient"
    if use_photo:
        photos = natural_photo_paths()
        if photos:
            name = sorted(photos)[int(rng.integers(len(photos)))]
            return _natural_background(rng, size, name, photos[name])
    image = procedural_background(rng, size, kind)
    return image, {"kind": kind, "source": "procedural"}

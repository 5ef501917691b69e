"""Named appearance presets: how a rendered set looks, from camera to JPEG.

=============  =====================================================================================
preset         what it stands for
=============  =====================================================================================
``synthetic``  FiDIP's recipe (paper §4.2): random textures (any-colour clothes, diapers, naked
               infants), random backgrounds (procedural + photos), flat light, sharp, frontal-ish
               cameras all around. ``is_synthetic`` defaults to True.
``photo``      A stand-in for real infant photos: baby clothes in natural colours, room-like and
               natural backgrounds, a warm key light and soft fill, sensor noise, mild blur, JPEG
               60-95, cameras mostly above lying infants. ``is_synthetic`` defaults to False, and
               every record says it was rendered (``appearance.preset == "photo"``).
``surreal``    Adults as in SURREAL: shirts and trousers, SURREAL-like random lights, farther
               cameras (the body fills less of the frame). ``is_synthetic`` defaults to True.
=============  =====================================================================================
"""

from __future__ import annotations

import difflib
from dataclasses import asdict, dataclass, field, fields
from typing import Any

from ..camera import CameraRanges
from ..config import check_keys
from .appearance import OUTFITS, PALETTES, PATTERNS
from .background import PROCEDURAL_KINDS
from .lighting import LIGHTING_STYLES

__all__ = ["PRESETS", "AppearancePreset", "get_preset"]


@dataclass(frozen=True)
class AppearancePreset:
    """Everything random about a rendered sample's look, as ranges and choices."""

    name: str
    description: str
    is_synthetic: bool  # the default domain label of sets made with it
    outfits: tuple[str, ...]
    outfit_weights: tuple[float, ...] | None = None
    patterns: tuple[str, ...] = PATTERNS
    palette: str = "pastel"  # clothes colours: "pastel", "adult", "random"
    hair_probability: float = 0.4
    pattern_scale: tuple[float, float] = (0.015, 0.05)  # metres
    backgrounds: tuple[str, ...] = PROCEDURAL_KINDS
    natural_background_probability: float = 0.3
    lighting: str = "simple"  # see infantpose.render.lighting.LIGHTING_STYLES
    photo_effects: bool = False
    jpeg_quality: tuple[int, int] = (60, 95)  # of the simulated camera (photo effects)
    file_jpeg_quality: int = 95  # of the JPEG files the writer saves
    cameras: CameraRanges = field(default_factory=CameraRanges)

    def __post_init__(self) -> None:
        where = f"AppearancePreset {self.name!r}"
        if isinstance(self.cameras, dict):
            object.__setattr__(self, "cameras", CameraRanges.from_dict(self.cameras))
        for name, allowed in (
            ("outfits", OUTFITS),
            ("patterns", PATTERNS),
            ("backgrounds", PROCEDURAL_KINDS),
        ):
            values = tuple(getattr(self, name))
            object.__setattr__(self, name, values)
            check_keys(values, allowed, f"{where}.{name}")
            if not values:
                raise ValueError(f"{where}.{name} is empty; choose from {', '.join(allowed)}")
        for name, allowed in (("palette", PALETTES), ("lighting", LIGHTING_STYLES)):
            if getattr(self, name) not in allowed:
                raise ValueError(
                    f"{where}.{name}={getattr(self, name)!r}; use one of {', '.join(allowed)}"
                )
        if self.outfit_weights is not None and len(self.outfit_weights) != len(self.outfits):
            raise ValueError(
                f"{where}.outfit_weights has {len(self.outfit_weights)} values for "
                f"{len(self.outfits)} outfits; give one weight per outfit (or None)"
            )
        for name in ("hair_probability", "natural_background_probability"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise ValueError(f"{where}.{name}={getattr(self, name)!r}: a probability in [0, 1]")
        low, high = self.jpeg_quality
        if not 1 <= low <= high <= 100 or not 1 <= self.file_jpeg_quality <= 100:
            raise ValueError(f"{where}: JPEG qualities are in 1..100 with low ≤ high")

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any], where: str = "AppearancePreset") -> AppearancePreset:
        """A preset from plain settings (``cameras`` may be a dict); unknown names are errors."""
        check_keys(d, cls, where)
        return cls(**d)

    def replace(self, **changes: Any) -> AppearancePreset:
        """A copy with some fields changed (``cameras`` may be a dict of changes)."""
        check_keys(changes, AppearancePreset, f"AppearancePreset {self.name!r}.replace")
        values = {f.name: getattr(self, f.name) for f in fields(self)}
        if isinstance(changes.get("cameras"), dict):
            changes["cameras"] = {**asdict(self.cameras), **changes["cameras"]}
        return AppearancePreset(**{**values, **changes})


PRESETS: dict[str, AppearancePreset] = {
    "synthetic": AppearancePreset(
        name="synthetic",
        description="FiDIP's synthetic infants: random textures and backgrounds, flat light, sharp",
        is_synthetic=True,
        outfits=("none", "diaper", "onesie", "top_leggings"),
        outfit_weights=(0.15, 0.45, 0.2, 0.2),
        palette="random",
        hair_probability=0.3,
        backgrounds=PROCEDURAL_KINDS,
        natural_background_probability=0.4,
        lighting="simple",
        cameras=CameraRanges(
            elevation=(-15.0, 45.0), lying_elevation=(20.0, 90.0), fill=(0.55, 0.9)
        ),
    ),
    "photo": AppearancePreset(
        name="photo",
        description="stand-in for real infant photos: natural light, noise, blur, JPEG, cameras above",
        is_synthetic=False,
        outfits=("diaper", "onesie", "top_leggings"),
        outfit_weights=(0.4, 0.35, 0.25),
        patterns=("solid", "solid", "stripes", "dots", "checks"),
        palette="pastel",
        hair_probability=0.5,
        backgrounds=("blanket", "crib", "floor", "room"),
        natural_background_probability=0.25,
        lighting="photo",
        photo_effects=True,
        cameras=CameraRanges(
            elevation=(0.0, 35.0),
            lying_elevation=(50.0, 90.0),
            roll=(-8.0, 8.0),
            fov_y=(45.0, 65.0),
            fill=(0.5, 0.85),
        ),
    ),
    "surreal": AppearancePreset(
        name="surreal",
        description="SURREAL-like adults: clothing textures, random lights, farther cameras",
        is_synthetic=True,
        outfits=("shirt_trousers", "shirt_shorts"),
        outfit_weights=(0.75, 0.25),
        palette="adult",
        hair_probability=0.8,
        pattern_scale=(0.03, 0.1),
        backgrounds=PROCEDURAL_KINDS,
        natural_background_probability=0.5,
        lighting="surreal",
        cameras=CameraRanges(
            elevation=(-10.0, 25.0),
            lying_elevation=(20.0, 70.0),
            fov_y=(25.0, 45.0),
            fill=(0.4, 0.75),
        ),
    ),
}


def get_preset(name: str | AppearancePreset) -> AppearancePreset:
    """The preset called ``name`` (an :class:`AppearancePreset` passes through)."""
    if isinstance(name, AppearancePreset):
        return name
    if name not in PRESETS:
        close = difflib.get_close_matches(str(name), PRESETS, n=1)
        hint = f"did you mean {close[0]!r}? " if close else ""
        raise ValueError(
            f"unknown appearance preset {name!r}; {hint}presets: {', '.join(PRESETS)} "
            "(or build an infantpose.render.AppearancePreset)"
        )
    return PRESETS[name]

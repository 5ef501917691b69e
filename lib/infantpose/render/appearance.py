"""Procedural body appearance: body-part labels, skin tones, diapers, clothes and their patterns.

Everything is vertex colours, computed from the **rest pose** so that patterns stay on the body
when it moves, and works for any mesh with our 22 body joints (anny and SMPL/SMIL alike):

1. :func:`body_parts` labels every rest-pose vertex with the nearest bone segment of
   :data:`~infantpose.body.BODY_JOINTS` / :data:`~infantpose.body.BODY_PARENTS` (a bone is
   named after its parent joint, so ``left_hip`` is the thigh; leaf joints — head, wrists, feet
   — continue their parent bone, so the skull, hands and toes end up with them) and derives
   garment regions.
2. :func:`sample_body_appearance` draws a :class:`BodyAppearance` (skin tone, outfit, pattern,
   colours, hair) from a preset, deterministically under a numpy Generator.
3. :func:`vertex_colors` turns both into ``(V, 3)`` sRGB colours in [0, 1].

Outfits: infants wear a ``diaper`` alone, a ``onesie`` (body suit: torso, diaper area, short or
long sleeves), or a ``top_leggings`` pair; adults (``surreal``) a ``shirt_trousers`` or
``shirt_shorts`` pair. Patterns: ``solid``, ``stripes``, ``dots``, ``checks``, ``noise`` (a
smooth random field), laid out in rest-pose coordinates.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from ..body.joints import BODY_JOINTS, BODY_PARENTS

__all__ = [
    "OUTFITS",
    "PATTERNS",
    "SKIN_TONES",
    "BodyAppearance",
    "BodyParts",
    "body_parts",
    "sample_body_appearance",
    "vertex_colors",
]

J = {name: i for i, name in enumerate(BODY_JOINTS)}

#: Skin tones, light to dark (sRGB 0-255), loosely spanning the Fitzpatrick scale; a sample
#: interpolates between two neighbours.
SKIN_TONES: tuple[tuple[int, int, int], ...] = (
    (255, 224, 205),
    (246, 205, 180),
    (234, 186, 156),
    (214, 160, 125),
    (190, 133, 98),
    (160, 104, 72),
    (122, 78, 54),
    (88, 56, 40),
)

OUTFITS: tuple[str, ...] = (
    "none",
    "diaper",
    "onesie",
    "top_leggings",
    "shirt_trousers",
    "shirt_shorts",
)
PATTERNS: tuple[str, ...] = ("solid", "stripes", "dots", "checks", "noise")

# Colour palettes (sRGB 0-255) for clothes.
PALETTES: dict[str, tuple[tuple[int, int, int], ...]] = {
    # Baby clothes: whites, pastels, a few brights.
    "pastel": (
        (245, 245, 240), (250, 235, 240), (220, 235, 250), (250, 245, 210), (215, 245, 225),
        (235, 225, 250), (200, 215, 230), (255, 210, 180), (180, 200, 225), (240, 190, 200),
        (120, 160, 200), (250, 200, 90), (230, 110, 110), (130, 190, 150),
    ),
    # Adult clothes: darks, denim, neutrals, a few colours.
    "adult": (
        (30, 35, 50), (40, 40, 40), (120, 120, 125), (70, 90, 130), (50, 70, 110),
        (190, 175, 140), (235, 235, 230), (150, 40, 45), (60, 100, 70), (200, 120, 60),
        (90, 60, 50), (170, 190, 210),
    ),
    # The synthetic recipe: anything goes.
    "random": (),
}  # fmt: skip
DIAPER_COLOURS: tuple[tuple[int, int, int], ...] = (
    (250, 250, 248), (240, 244, 250), (245, 238, 225), (225, 238, 250), (250, 232, 238),
)  # fmt: skip
HAIR_COLOURS: tuple[tuple[int, int, int], ...] = (
    (40, 28, 20), (80, 55, 35), (130, 95, 60), (190, 150, 95), (25, 20, 18), (150, 70, 40),
)  # fmt: skip

# Garment pieces: which bone labels they cover (parent joint names, leaves for hands/feet/head).
_TORSO = ("spine1", "spine2", "spine3", "left_collar", "right_collar")
_UPPER_ARMS = ("left_shoulder", "right_shoulder")
_FOREARMS = ("left_elbow", "right_elbow")
_THIGHS = ("left_hip", "right_hip")
_SHINS = ("left_knee", "right_knee")


@dataclass(frozen=True)
class BodyParts:
    """Per-vertex labels of one body shape in its rest pose (see :func:`body_parts`)."""

    labels: np.ndarray  # (V,) index into BODY_JOINTS of the nearest bone's parent (or leaf joint)
    rest_vertices: np.ndarray  # (V, 3) rest pose, pelvis at the origin
    regions: dict[str, np.ndarray]  # name -> (V,) bool
    height: float  # rest-pose height in metres (y extent)

    def mask(self, *joints: str) -> np.ndarray:
        return np.isin(self.labels, [J[name] for name in joints])


def _segment_distances(points: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """(N, S) distances from points to segments a→b (S segments)."""
    ab = b - a  # (S, 3)
    length2 = np.maximum((ab**2).sum(-1), 1e-12)
    ap = points[:, None, :] - a[None]  # (N, S, 3)
    s = np.clip((ap * ab[None]).sum(-1) / length2, 0.0, 1.0)
    closest = a[None] + s[..., None] * ab[None]
    return np.linalg.norm(points[:, None, :] - closest, axis=-1)


def body_parts(
    rest_vertices: Any,
    rest_joints: Any,
    parents: tuple[int, ...] = BODY_PARENTS,
) -> BodyParts:
    """Label each rest-pose vertex with its nearest bone segment and derive garment regions.

    ``rest_vertices`` (V, 3) and ``rest_joints`` (22, 3) in :data:`BODY_JOINTS` order, world
    frame (y up, facing +z). Bones are parent→child segments, labelled with the parent joint;
    the head, wrists and feet (leaf joints) get a segment continuing their parent bone.
    """
    vertices = np.asarray(rest_vertices, dtype=np.float64)
    joints = np.asarray(rest_joints, dtype=np.float64)
    starts, ends, owners = [], [], []
    has_child = {p for p in parents if p >= 0}
    for child, parent in enumerate(parents):
        if parent >= 0:
            starts.append(joints[parent])
            ends.append(joints[child])
            owners.append(parent)
        if child not in has_child and parent >= 0:
            # A leaf (head, hand, foot) continues past its joint, as far as its parent bone is
            # long (half as far for a hand): the skull above the skull base, the fingers, toes.
            reach = 0.5 if "wrist" in BODY_JOINTS[child] else 1.0
            starts.append(joints[child])
            ends.append(joints[child] + reach * (joints[child] - joints[parent]))
            owners.append(child)
    # The collar bones run from spine3 to the collars: call them torso (spine3), and keep the
    # neck bone (neck → head) for the neck only.
    distances = _segment_distances(vertices, np.asarray(starts), np.asarray(ends))
    labels = np.asarray(owners)[distances.argmin(axis=1)]

    y = vertices[:, 1]
    height = float(y.max() - y.min())
    spine1_y = joints[J["spine1"], 1]
    pelvis_y = joints[J["pelvis"], 1]
    hip_y = 0.5 * (joints[J["left_hip"], 1] + joints[J["right_hip"], 1])
    knee_y = 0.5 * (joints[J["left_knee"], 1] + joints[J["right_knee"], 1])

    def mask(names: tuple[str, ...]) -> np.ndarray:
        return np.isin(labels, [J[n] for n in names])

    torso = mask((*_TORSO, "pelvis"))
    thighs = mask(_THIGHS)
    # The waist splits tops from bottoms; the diaper covers the pelvis and the top of the thighs.
    waist = 0.5 * (spine1_y + pelvis_y) + 0.15 * (spine1_y - pelvis_y)
    diaper_low = hip_y - 0.45 * (hip_y - knee_y)
    bottom_torso = torso & (y < waist)
    diaper = bottom_torso | (thighs & (y > diaper_low))
    # Nearest-bone labels give the armpits to the arms: a top also covers arm vertices that lie
    # between the shoulder joints (x) in the rest pose.
    shoulder_x = 0.5 * abs(joints[J["left_shoulder"], 0] - joints[J["right_shoulder"], 0])
    armpits = mask(_UPPER_ARMS) & (np.abs(vertices[:, 0]) < shoulder_x) & (y >= waist)
    regions = {
        "top": (torso & ~bottom_torso) | armpits,
        "short_sleeves": mask(_UPPER_ARMS) | mask(("left_collar", "right_collar")),
        "long_sleeves": mask(_UPPER_ARMS + _FOREARMS) | mask(("left_collar", "right_collar")),
        "diaper": diaper,
        "shorts": bottom_torso | (thighs & (y > hip_y - 0.7 * (hip_y - knee_y))),
        "trousers": bottom_torso | thighs | mask(_SHINS),
        "head": mask(("head",)),
    }
    head = regions["head"]
    neck_top = joints[J["head"], 1]
    head_top = y[head].max() if head.any() else neck_top
    front = vertices[head, 2].max() if head.any() else 0.0
    head_depth = front - (vertices[head, 2].min() if head.any() else 0.0)
    # Hair: the crown and the back of the skull, never the face.
    crown = y > neck_top + 0.55 * (head_top - neck_top)
    back = (vertices[:, 2] < front - 0.55 * head_depth) & (
        y > neck_top + 0.1 * (head_top - neck_top)
    )
    regions["hair"] = head & (crown | back)
    return BodyParts(labels=labels, rest_vertices=vertices, regions=regions, height=height)


@dataclass(frozen=True)
class BodyAppearance:
    """What a body looks like (all colours sRGB 0-255); :meth:`to_record` is what datasets store."""

    skin_tone: tuple[int, int, int]
    outfit: str = "diaper"
    pattern: str = "solid"
    colors: tuple[tuple[int, int, int], ...] = ((250, 250, 248),)  # main, secondary colour
    pattern_scale: float = 0.03  # metres between stripes / dots in rest-pose coordinates
    pattern_angle: float = 0.0  # radians, stripes and checks direction
    sleeves: str = "short"  # "none", "short", "long"
    hair_color: tuple[int, int, int] | None = None
    seed: int = 0  # of the noise pattern

    def to_record(self) -> dict[str, Any]:
        record = asdict(self)
        record["skin_tone"] = list(self.skin_tone)
        record["colors"] = [list(c) for c in self.colors]
        record["hair_color"] = list(self.hair_color) if self.hair_color else None
        record["pattern_scale"] = round(self.pattern_scale, 5)
        record["pattern_angle"] = round(self.pattern_angle, 5)
        return record


def _pick(rng: np.random.Generator, options: tuple) -> Any:
    return options[int(rng.integers(len(options)))]


def _random_colour(rng: np.random.Generator, palette: str) -> tuple[int, int, int]:
    if palette == "random" or not PALETTES.get(palette):
        # Any hue, fairly saturated: the synthetic recipe's random textures.
        hue, sat, val = rng.uniform(0, 1), rng.uniform(0.2, 0.9), rng.uniform(0.3, 1.0)
        import colorsys

        return tuple(round(255 * c) for c in colorsys.hsv_to_rgb(hue, sat, val))  # type: ignore[return-value]
    return _pick(rng, PALETTES[palette])


def sample_skin_tone(rng: np.random.Generator) -> tuple[int, int, int]:
    """A tone between two neighbouring :data:`SKIN_TONES`, with a slight random tint."""
    i = int(rng.integers(len(SKIN_TONES) - 1))
    w = rng.uniform()
    tone = (1 - w) * np.asarray(SKIN_TONES[i]) + w * np.asarray(SKIN_TONES[i + 1])
    tone = tone * (1.0 + rng.uniform(-0.03, 0.03, size=3))
    return tuple(int(c) for c in np.clip(np.round(tone), 0, 255))  # type: ignore[return-value]


def sample_body_appearance(
    rng: np.random.Generator,
    *,
    outfits: tuple[str, ...] = ("diaper", "onesie", "top_leggings"),
    outfit_weights: tuple[float, ...] | None = None,
    patterns: tuple[str, ...] = PATTERNS,
    palette: str = "pastel",
    hair_probability: float = 0.5,
    pattern_scale: tuple[float, float] = (0.015, 0.05),
) -> BodyAppearance:
    """A random :class:`BodyAppearance` (the presets pass their own choices)."""
    for name in outfits:
        if name not in OUTFITS:
            raise ValueError(f"unknown outfit {name!r}; outfits: {', '.join(OUTFITS)}")
    for name in patterns:
        if name not in PATTERNS:
            raise ValueError(f"unknown pattern {name!r}; patterns: {', '.join(PATTERNS)}")
    skin = sample_skin_tone(rng)
    p = None if outfit_weights is None else np.asarray(outfit_weights) / np.sum(outfit_weights)
    outfit = outfits[int(rng.choice(len(outfits), p=p))]
    pattern = _pick(rng, patterns)
    main = _random_colour(rng, palette)
    second = _random_colour(rng, palette)
    if outfit == "diaper" and palette != "random":
        main = _pick(rng, DIAPER_COLOURS)
    scale = float(rng.uniform(*pattern_scale))
    angle = float(rng.uniform(-0.4, 0.4)) if rng.uniform() < 0.5 else float(rng.uniform(0, math.pi))
    sleeves = _pick(rng, ("none", "short", "long"))
    hair = _pick(rng, HAIR_COLOURS) if rng.uniform() < hair_probability else None
    seed = int(rng.integers(2**31))
    return BodyAppearance(
        skin_tone=skin,
        outfit=outfit,
        pattern=pattern,
        colors=(main, second),
        pattern_scale=scale,
        pattern_angle=angle,
        sleeves=sleeves,
        hair_color=hair,
        seed=seed,
    )


def smooth_noise(points: np.ndarray, scale: float, seed: int, waves: int = 12) -> np.ndarray:
    """A smooth random field in about [-1, 1] over points (N, D): a sum of random plane waves."""
    rng = np.random.default_rng(seed)
    dim = points.shape[-1]
    directions = rng.normal(size=(waves, dim))
    directions /= np.linalg.norm(directions, axis=1, keepdims=True)
    frequencies = rng.uniform(0.5, 2.0, size=waves) * (2 * math.pi / scale)
    phases = rng.uniform(0, 2 * math.pi, size=waves)
    phase = points @ (directions * frequencies[:, None]).T.astype(points.dtype) + phases.astype(
        points.dtype
    )
    field = np.cos(phase).sum(-1)
    return (field / math.sqrt(waves / 2)).clip(-1.5, 1.5) / 1.5


def _pattern_weight(appearance: BodyAppearance, points: np.ndarray) -> np.ndarray:
    """(V,) in [0, 1]: how much of the secondary colour each vertex gets."""
    s, a = appearance.pattern_scale, appearance.pattern_angle
    # Stripes run around the body (horizontal bands in the rest pose), tilted by the angle.
    coord = points[:, 1] * math.cos(a) + points[:, 0] * math.sin(a)
    if appearance.pattern == "solid":
        return np.zeros(len(points))
    if appearance.pattern == "stripes":
        return (np.sin(2 * math.pi * coord / s) > 0.2).astype(np.float64)
    if appearance.pattern == "checks":
        other = points[:, 0] * math.cos(a) - points[:, 1] * math.sin(a) + points[:, 2]
        band = (np.sin(2 * math.pi * coord / s) > 0) ^ (np.sin(2 * math.pi * other / s) > 0)
        return 0.6 * band.astype(np.float64)
    if appearance.pattern == "dots":
        cell = (points / s) % 1.0 - 0.5  # position inside a 3D lattice cell
        return (np.linalg.norm(cell, axis=1) < 0.3).astype(np.float64)
    if appearance.pattern == "noise":
        return (0.5 + 0.5 * smooth_noise(points, 3 * s, appearance.seed)).clip(0, 1)
    raise ValueError(f"unknown pattern {appearance.pattern!r}; patterns: {', '.join(PATTERNS)}")


def vertex_colors(appearance: BodyAppearance, parts: BodyParts) -> np.ndarray:
    """``(V, 3)`` sRGB colours in [0, 1] of a body with these parts."""
    points = parts.rest_vertices
    skin = np.asarray(appearance.skin_tone, dtype=np.float64) / 255.0
    # Skin is not flat: a faint low-frequency variation (blotches, redder and paler areas).
    variation = smooth_noise(points, 0.08, appearance.seed + 1, waves=6)
    colours = np.clip(skin[None] * (1.0 + 0.04 * variation[:, None]), 0.0, 1.0)
    regions = parts.regions
    if appearance.hair_color is not None:
        colours[regions["hair"]] = np.asarray(appearance.hair_color) / 255.0

    pair = (*appearance.colors, *appearance.colors)[:2]  # one colour: no pattern contrast
    main, second = (np.asarray(c, dtype=np.float64) / 255.0 for c in pair)
    weight = _pattern_weight(appearance, points)[:, None]
    cloth = (1 - weight) * main + weight * second
    # Fabric: a faint per-vertex variation so large clothes are not flat.
    grain = np.random.default_rng(appearance.seed + 2).uniform(-1.0, 1.0, size=(len(points), 1))
    cloth = (cloth * (1.0 + 0.03 * grain)).clip(0.0, 1.0)

    outfit = appearance.outfit
    covered = np.zeros(len(points), dtype=bool)
    sleeves = {"none": None, "short": "short_sleeves", "long": "long_sleeves"}[appearance.sleeves]
    if outfit in ("onesie", "top_leggings", "shirt_trousers", "shirt_shorts"):
        covered |= regions["top"]
        if sleeves:
            covered |= regions[sleeves]
    if outfit == "onesie":
        covered |= regions["diaper"]
    if outfit == "top_leggings" or outfit == "shirt_trousers":
        covered |= regions["trousers"]
    if outfit == "shirt_shorts":
        covered |= regions["shorts"]
    colours[covered] = cloth[covered]
    if outfit == "diaper":
        diaper = regions["diaper"]
        colours[diaper] = (main * (1.0 + 0.03 * grain[diaper])).clip(0, 1)
    if outfit == "top_leggings":  # leggings in the secondary colour, plain, for contrast
        legs = regions["trousers"] & ~regions["top"]
        colours[legs] = second * 0.9
    return colours.astype(np.float32)

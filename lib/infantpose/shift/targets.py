"""The target infants of SHIFT's chapter: the stand-in, SyRIP or MINI-RGBD, cut as SHIFT cuts them.

Each target is four disjoint roles (:class:`TargetData`): a **prior** split whose *pose labels*
train the infant pose prior, a **validation** split (images and labels, used only by the
``target-val`` selection protocol), an **adaptation** split (images only; the oracle row alone
reads its labels) and a **test** split that is only evaluated.

* **stand-in** (``data == "embedded"``): the training images of :func:`load_infant_images` are
  cut at random into the three training roles (:func:`~infantpose.shift.data.target_splits`);
  the test split is the stand-in's ``validate_infant``.
* **SyRIP** (``paths.syrip``; SHIFT's ``SyRIP_all.npy``): the prior is the *real* training
  images (200 in the release), adaptation the *synthetic* training images (1000), test the
  real ``validate_infant`` images (500). SHIFT selects its checkpoint on that same test split;
  the book instead holds out ``validation_fraction`` of the synthetic images for it.
* **MINI-RGBD** (``paths.minirgbd``; SHIFT's ``lib/minirgbd_preprocess.py``): training
  sequences 01–10, test 11–12, prior the odd sequences 01/03/05/07/09. SHIFT selects on the
  test sequences; the book holds out sequence 10 for validation, so adaptation uses 01–09
  (their images only; the prior's sequences are among them, as released: the prior reads
  labels, adaptation only pixels). ``minirgbd_stride`` keeps every k-th frame (consecutive
  frames are nearly identical; 1 keeps all 1000 per sequence).
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np

from ..config import Profile, load_profile
from ..data.coco import CocoKeypoints
from ..data.minirgbd import MINIRGBD_SPLITS, load_minirgbd, minirgbd_root
from ..data.syrip import load_syrip, syrip_root
from ..synthesis.standin import load_infant_images
from .data import target_splits

__all__ = [
    "MINIRGBD_VALIDATION",
    "TARGETS",
    "TargetData",
    "minirgbd_target",
    "syrip_target",
    "target_data",
]

#: The target choices of :func:`target_data`.
TARGETS = ("auto", "standin", "syrip", "minirgbd")

#: MINI-RGBD's training sequence the book holds out for the ``target-val`` protocol.
MINIRGBD_VALIDATION = ("10",)


@dataclass(frozen=True)
class TargetData:
    """The target's four roles, which dataset they come from and how it was cut."""

    splits: dict[str, CocoKeypoints]  # "prior", "validation", "adaptation"
    test: CocoKeypoints
    data: str  # "embedded" or "real" (the provenance word of record_metrics)
    name: str  # "stand-in infants", "SyRIP", "MINI-RGBD"
    how: str  # one sentence: how the splits were cut

    def sizes(self) -> dict[str, int]:
        """Images per role, in the order prior, validation, adaptation, test."""
        return {**{k: v.num_images for k, v in self.splits.items()}, "test": self.test.num_images}


def syrip_target(
    train: CocoKeypoints, test: CocoKeypoints, *, validation_fraction: float, seed: int = 0
) -> TargetData:
    """SyRIP cut as SHIFT's ``SyRIP_all.npy``: prior = real training images, adaptation =
    synthetic training images less a ``validation_fraction`` share held out for validation."""
    real = sorted(im["id"] for im in train.images if train.is_synthetic(im) is not True)
    synthetic = [im["id"] for im in train.images if train.is_synthetic(im) is True]
    if not real or len(synthetic) < 2:
        raise ValueError(
            f"{train.source}: SHIFT's SyRIP split needs real training images (the prior) and "
            f"synthetic ones (adaptation); found {len(real)} real and {len(synthetic)} synthetic. "
            "Check that the SyRIP annotations carry is_synthetic (the 200R_1000S training file)"
        )
    order = [int(i) for i in np.random.default_rng([seed, 1602]).permutation(synthetic)]
    n_val = max(1, round(validation_fraction * len(order)))
    if n_val >= len(order):
        raise ValueError(f"validation_fraction={validation_fraction} leaves no adaptation image")
    splits = {
        "prior": train.subset(real),
        "validation": train.subset(sorted(order[:n_val])),
        "adaptation": train.subset(sorted(order[n_val:])),
    }
    how = (
        "SHIFT's SyRIP split: prior = the real training images, adaptation = the synthetic ones, "
        f"test = validate_infant; {n_val} synthetic images held out for validation (SHIFT "
        "selects on its test split)"
    )
    return TargetData(splits, test, "real", "SyRIP", how)


def minirgbd_target(root: str | os.PathLike, *, stride: int = 10) -> TargetData:
    """MINI-RGBD cut as SHIFT's preprocessing: prior = odd sequences 01–09, adaptation =
    01–09, validation = :data:`MINIRGBD_VALIDATION` (10), test = 11–12; every ``stride``-th frame."""
    train_sequences = [s for s in MINIRGBD_SPLITS["train"] if s not in MINIRGBD_VALIDATION]

    def coco(sequences) -> CocoKeypoints:
        frames = load_minirgbd(root, list(sequences), stride=stride)
        if len(frames) == 0:
            raise ValueError(
                f"MINI-RGBD {root}: sequences {list(sequences)} hold no labelled frame "
                "(joints_2Ddep/syn_joints_2Ddep_*.txt); check paths.minirgbd"
            )
        return frames.to_coco(bbox="mask")

    splits = {
        "prior": coco(MINIRGBD_SPLITS["prior"]),
        "validation": coco(MINIRGBD_VALIDATION),
        "adaptation": coco(train_sequences),
    }
    how = (
        "SHIFT's MINI-RGBD split: prior = pose labels of sequences 01/03/05/07/09, adaptation = "
        f"images of 01–09, test = 11–12; sequence 10 held out for validation (SHIFT selects on "
        f"its test sequences); every {stride}th frame"
    )
    return TargetData(splits, coco(MINIRGBD_SPLITS["test"]), "real", "MINI-RGBD", how)


def target_data(
    profile: str | os.PathLike | Profile,
    target: str = "auto",
    *,
    standin_train: int,
    standin_validate: int,
    seed: int = 0,
    prior_fraction: float = 0.3,
    validation_fraction: float = 0.2,
    minirgbd_stride: int = 10,
) -> TargetData:
    """The chapter's target. ``target="auto"``: SyRIP when ``paths.syrip`` is set, else
    MINI-RGBD when ``paths.minirgbd`` is set, else the embedded stand-in infants."""
    if target not in TARGETS:
        raise ValueError(f"target={target!r}; use one of {TARGETS}")
    prof = profile if isinstance(profile, Profile) else load_profile(profile)
    if target == "auto":
        target = next((k for k in ("syrip", "minirgbd") if prof.paths.get(k)), "standin")
    if target == "minirgbd":
        return minirgbd_target(minirgbd_root(prof), stride=minirgbd_stride)
    if target == "syrip":
        root = syrip_root(prof)
        return syrip_target(
            load_syrip(root, "train_infant"), load_syrip(root, "validate_infant"),
            validation_fraction=validation_fraction, seed=seed,
        )  # fmt: skip
    infants, data = load_infant_images(
        prof, train=standin_train, validate=standin_validate, seed=seed
    )
    if data != "embedded":
        raise ValueError(
            f"target='standin' but the profile {prof.name!r} sets paths.syrip; use target='syrip'"
        )
    splits = target_splits(
        infants["train_infant"], prior_fraction=prior_fraction,
        validation_fraction=validation_fraction, seed=seed,
    )  # fmt: skip
    how = (
        f"the stand-in's training images cut at random (seed {seed}): {prior_fraction:.0%} prior, "
        f"{validation_fraction:.0%} validation, the rest adaptation; test = its validate_infant"
    )
    return TargetData(splits, infants["validate_infant"], "embedded", "stand-in infants", how)

"""ZeDO-i's published numbers, kept in the package so that a table can put them beside ours.

ZeDO-i (Zhou et al. 2023) gives, in its abstract, MPJPE 43.6 mm on SyRIP and 21.2 mm on
MINI-RGBD without naming the variant. Its released SyRIP checkpoint (trained from scratch with
guided augmentation, one hypothesis, ground-truth 2D keypoints) measures 45.1 mm, which its
maintainer calls the paper's number (the repository's issue #3): that is the one row of
chapter 05 with a counterpart (``augmented``, at the largest training size).
"""

from __future__ import annotations

__all__ = ["PAPER_MPJPE", "PAPER_MPJPE_ABSTRACT", "PAPER_MPJPE_SOURCE"]

#: Where :data:`PAPER_MPJPE` comes from.
PAPER_MPJPE_SOURCE = (
    "ZeDO-i (Zhou et al. 2023), released SyRIP checkpoint: MPJPE (mm), from scratch + "
    "augmentation, 1 hypothesis, ground-truth 2D"
)

#: Chapter 05 method → the release's MPJPE (mm) on SyRIP.
PAPER_MPJPE: dict[str, float] = {"augmented": 45.1}

#: The abstract's MPJPE (mm) per dataset, variant not stated.
PAPER_MPJPE_ABSTRACT: dict[str, float] = {"SyRIP": 43.6, "MINI-RGBD": 21.2}

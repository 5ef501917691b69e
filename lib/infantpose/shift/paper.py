"""SHIFT's published numbers, kept in the package so that a table can put them beside ours.

SHIFT (Bose et al. 2025), Tables 1 and 2: PCK@0.05 "Avg." (the mean of the six limb groups,
head excluded), a ResNet-101 at 256×256 trained on SURREAL, 15,000 adaptation steps, and
checkpoints chosen on labelled target validation data. Its "mean teacher" entry is UDAPE
(Kim et al. 2022, "UniFrame" in the paper), which also used AdaIN style transfer. The keys are
the rows of chapter 04 (``source-only``, ``mean teacher``, ``SHIFT (all)``, ``oracle``); the
other rows have no counterpart in the paper.
"""

from __future__ import annotations

__all__ = ["PAPER_PCK", "PAPER_PCK_NOTES", "PAPER_PCK_SOURCE"]

#: Where :data:`PAPER_PCK` comes from.
PAPER_PCK_SOURCE = (
    "SHIFT (Bose et al. 2025), Tables 1-2: PCK@0.05 Avg. (%), ResNet-101 256×256 trained on "
    "SURREAL, checkpoints chosen on labelled target validation data"
)

#: Target dataset → chapter 04 row → the paper's PCK@0.05 Avg. (%).
PAPER_PCK: dict[str, dict[str, float]] = {
    "SURREAL → SyRIP": {"source-only": 26.3, "mean teacher": 34.2, "SHIFT (all)": 39.8, "oracle": 63.8},
    "SURREAL → MINI-RGBD": {"source-only": 47.4, "mean teacher": 51.5, "SHIFT (all)": 56.4, "oracle": 89.2},
}  # fmt: skip

#: What a paper entry is, where the row name alone would mislead.
PAPER_PCK_NOTES = {"mean teacher": "UDAPE"}

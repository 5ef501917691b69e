"""The chapters of the book, in reading order."""

from __future__ import annotations

#: The chapters in reading order; ``book/_toc.yml`` lists the same (tested).
CHAPTERS = (
    "00-measuring-pose",
    "01-data-collection",
    "02-smil-synthesis",
    "03-fidip-training",
    "04-shift-adaptation",
    "05-zedoi-lifting",
    "06-pose-explorer",
)


class ChapterFailed(RuntimeError):
    """A chapter raised, timed out or could not be started, or the book failed to build."""

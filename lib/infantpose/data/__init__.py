"""Data sets of the book: annotation files read, checked and written in their published formats.

- :mod:`.coco`: the COCO keypoint data model (:class:`CocoKeypoints`) and I/O
  (read, write, record builders), SyRIP's extras included
- :mod:`.coco_checks`: validation with actionable errors (file, record, field, fix)

Importing the package is cheap: numpy and the standard library, never torch.
"""

from .coco import (
    CocoFormatError,
    CocoKeypoints,
    annotation_record,
    image_record,
    make_coco,
    read_coco,
    validate,
    write_coco,
)

__all__ = [
    "CocoFormatError",
    "CocoKeypoints",
    "annotation_record",
    "image_record",
    "make_coco",
    "read_coco",
    "validate",
    "write_coco",
]

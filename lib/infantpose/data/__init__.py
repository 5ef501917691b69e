"""Data sets of the book: annotation files read, checked and written in their published formats.

- :mod:`.coco`: the COCO keypoint data model (:class:`CocoKeypoints`) and I/O
  (read, write, record builders), SyRIP's extras included
- :mod:`.coco_checks`: validation with actionable errors (file, record, field, fix)
- real datasets from a profile's ``paths``: :mod:`.syrip`, :mod:`.syrip3d` (SyRIP's 3D
  corrections), :mod:`.coco2017`, :mod:`.minirgbd`, :mod:`.surreal`
- collection: :mod:`.video` (frames from video, near-duplicates), :mod:`.selection` (diverse
  subsets), :mod:`.colabel` (AI-human co-labeling sessions; the widget is in
  :mod:`infantpose.viz.colabel_widget`)

Published formats and collection only: the datasets the book makes with the renderer (the
stand-in infants, FiDIP's synthetic infants, the adult sets) are in :mod:`infantpose.synthesis`.

Import those modules by name (``from infantpose.data.syrip import load_syrip``).

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

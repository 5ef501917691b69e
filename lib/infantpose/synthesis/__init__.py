"""The datasets the book makes with the renderer, kept under the data root.

It stands above :mod:`infantpose.render` (which knows no file format) and
:mod:`infantpose.data` (which reads and writes the published formats):

- :mod:`.writer`: :class:`~.writer.DatasetWriter`, rendered samples as a COCO dataset in
  SyRIP's layout, written atomically (:func:`~.writer.render_dataset` for one split)
- :mod:`.cache`: the one load-or-make cache (:func:`~.cache.load_or_make`) and the one
  fingerprint rule for code (:func:`~.cache.code_fingerprint`)
- :mod:`.standin`: the SyRIP-layout stand-in for real infant photos, and the stand-in clip
- :mod:`.infants`: FiDIP's synthetic infants (fit, then render 10 rotations per fit)
- :mod:`.adults`: the SURREAL-like adults and the real-adult stand-in

Import those modules by name (``from infantpose.synthesis.adults import adult_set``).
"""

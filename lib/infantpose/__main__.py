"""``python -m infantpose``: see :mod:`infantpose.cli`."""

from .cli import main

raise SystemExit(main())

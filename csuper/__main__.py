"""``python -m csuper``: the same as the ``csuper`` command."""

from csuper.cli import main

raise SystemExit(main())

"""``python -m reach``: the same as the ``reach`` command."""

import sys

from reach.cli import main

sys.exit(main())

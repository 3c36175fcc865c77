"""``python -m srnet``: the ``srnet`` command (see :mod:`srnet.cli`)."""

import sys

from srnet.cli import main

sys.exit(main())

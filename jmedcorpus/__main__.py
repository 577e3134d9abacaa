"""``python -m jmedcorpus`` is the ``jmedcorpus`` command."""

import sys

from jmedcorpus.cli import main

sys.exit(main())

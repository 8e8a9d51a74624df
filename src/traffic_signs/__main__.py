"""``python -m traffic_signs`` is the ``traffic-signs`` command (handy under torchrun)."""

import sys

from traffic_signs.cli import main

sys.exit(main())

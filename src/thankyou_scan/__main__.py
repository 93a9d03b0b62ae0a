"""``python -m thankyou_scan``."""

import sys

from .cli import main

sys.exit(main())

"""python3 -m aiospec_matrix [--aiospec PATH] [--out DIR] [--loops NAME,...] | --render REPORT.json... --out DIR"""

import sys

from .cli import main

sys.exit(main())

"""``python -m failover``: the same command as the ``failover`` script."""

import sys

from ._cli.main import main

sys.exit(main())

"""The outage drill: watch failover ride out a replayed provider outage, on fakes.

Needs the ``drill`` extra (``pip install "failover[drill]"``): rich and the fakes.
"""

from __future__ import annotations

from ._run import drill, drill_policy, run_drill
from ._timeline import TIMELINE, Step

__all__ = ["TIMELINE", "Step", "drill", "drill_policy", "run_drill"]

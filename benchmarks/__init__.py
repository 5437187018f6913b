"""failover's benchmark suite: overhead, outage drill and start-up cost vs. LiteLLM.

Run everything with ``python benchmarks/run.py`` (``--quick`` for a smoke run).
"""

"""The command line: ``failover doctor``, ``failover health``, ``failover drill`` and
``failover fake-server``.

``main`` (the parser), ``doctor`` and ``doctor_config`` (checks of the configuration
and, with ``--probe``, of each target), ``health`` (the health view), ``text``
(plain tables).

May import: everything else in failover, ``drill`` and ``testing`` included; nothing
imports it but ``failover.__main__``.
"""

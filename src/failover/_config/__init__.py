"""Configuration: what a chain is made of, and how it is read from the environment.

``policy`` (``Target``, ``Policy``, the presets and provider defaults), ``chains`` (a
chain as groups of targets, ``Group``, and what makes a chain valid), ``env`` (the
``FAILOVER_*`` variables into targets and a policy), ``local_models`` (the model files
of ``local/<model>``). Everything here is checked
before any request is sent, and refused with a ``ConfigError`` naming the variable.

May import: ``_core``.
"""

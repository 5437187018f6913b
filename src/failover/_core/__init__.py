"""The words every layer speaks: the exception tree, the decision table, the attempt
log, the call's deadline, and redaction of secrets.

``errors`` (the public exceptions), ``decisions`` (what to do with each kind of
failure), ``attempts`` (what happened on each try), ``deadline`` (one clock per call,
read by the I/O) and ``redact`` (no key in a message). Pure code with no I/O.

May import: nothing of failover.
"""

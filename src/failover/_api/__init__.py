"""The calling surface, in openai's shape: ``chat.completions`` (plain, ``parse`` and
streams), ``embeddings`` and ``responses``, sync and async.

``completions``, ``embeddings``, ``structured`` (``parse`` and schema checks),
``stream`` and ``async_stream`` (streams that fail over before their first content and
never end silently after it), ``tally`` (usage and the final chunk of a stream),
``idle`` (the time allowed between chunks), ``responses`` and ``responses_stream``
(the Responses API, its streams on the chat streams' machinery) and ``conversation``
(a call's place in a conversation kept by failover).

May import: ``_core``, ``_config``, ``_telemetry``, ``_health``, ``_adapters``,
``_responses``, ``_routing``.
"""

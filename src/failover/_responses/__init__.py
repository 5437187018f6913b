"""The Responses API on targets that do not speak it: a Responses request becomes a chat
request (``to_chat.py``), and the chat answer a Responses ``Response`` (``from_chat.py``).

Every target that does not serve ``/v1/responses`` already takes a chat request (the
Anthropic conversion, chat-only servers, the local model, the static last resort), so
one conversion to chat and back covers them all.

Streams: ``events.py`` writes the Responses events of a stream (a native target's are
read by ``_adapters/responses_events.py``).

May import: ``_core``.
"""

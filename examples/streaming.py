"""Streaming: chunks are openai ChatCompletionChunk objects, whoever answers.

Failures before the first token fail over invisibly; after it, StreamInterrupted
carries the partial text (or, with Policy(stream_resume=True), the next target continues).
"""

from __future__ import annotations

from _common import chain

from failover import Failover, StreamInterrupted

with chain(break_primary=True) as targets, Failover(targets) as client:
    try:
        with client.chat.completions.create(
            messages=[{"role": "user", "content": "Tell me a short story."}], stream=True
        ) as stream:
            for chunk in stream:
                if chunk.choices:
                    print(chunk.choices[0].delta.content or "", end="", flush=True)
        print(f"\n(streamed by {stream.target.label if stream.target else '?'})")
    except StreamInterrupted as exc:
        print(f"\nstream broke after {len(exc.partial_text)} characters")

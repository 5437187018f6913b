"""OpenAI embeddings on the wire: ``POST /v1/embeddings``, JSON only.

Vectors are deterministic: each is drawn from a hash of the model and the input, so
two fakes serving one model answer alike (as two deployments of one model do) and two
models do not. ``dimensions`` in the request sets the size, else the fake's default;
``encoding_format="base64"`` packs little-endian float32s, as the API does (and as the
openai SDK asks for by default). Faults apply as to chat, since the plans are shared.
"""

from __future__ import annotations

import base64
import hashlib
import math
import struct
from typing import Any

from ._reply import Reply
from ._wire import Call, count_words
from ._wire_openai import OpenAIWire

__all__ = ["EmbeddingsWire", "vector"]


def vector(model: str, text: str, dimensions: int) -> list[float]:
    """A unit vector of ``dimensions`` floats, fixed by ``model`` and ``text``."""
    values: list[float] = []
    counter = 0
    while len(values) < dimensions:
        digest = hashlib.sha256(f"{model}\0{text}\0{counter}".encode()).digest()
        values += [b / 127.5 - 1.0 for b in digest]
        counter += 1
    values = values[:dimensions]
    norm = math.sqrt(sum(v * v for v in values)) or 1.0
    return [round(v / norm, 6) for v in values]


class EmbeddingsWire(OpenAIWire):
    """Renders embeddings answers; errors and faults as OpenAI's chat endpoint does."""

    path = "/v1/embeddings"
    required = ("model", "input")

    def __init__(self, dimensions: int) -> None:
        self.dimensions = dimensions

    def message(self, call: Call, reply: Reply, *, finished: bool = True) -> dict[str, Any]:
        given = call.body.get("input")
        if isinstance(given, list) and given and not all(isinstance(x, int) for x in given):
            inputs = [str(x) for x in given]
        else:
            inputs = [str(given)]
        size = call.body.get("dimensions")
        dimensions = size if isinstance(size, int) and size > 0 else self.dimensions
        packed = call.body.get("encoding_format") == "base64"
        data = []
        for index, text in enumerate(inputs):
            floats = vector(call.model, text, dimensions)
            encoded: Any = floats
            if packed:
                encoded = base64.b64encode(struct.pack(f"<{dimensions}f", *floats)).decode()
            data.append({"object": "embedding", "index": index, "embedding": encoded})
        tokens = sum(count_words(text) for text in inputs)
        return {
            "object": "list",
            "data": data,
            "model": call.model,
            "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
        }

    def empty_message(self, call: Call) -> dict[str, Any]:
        usage = {"prompt_tokens": 0, "total_tokens": 0}
        return {"object": "list", "data": [], "model": call.model, "usage": usage}

"""Keep API keys out of every string failover produces."""

from __future__ import annotations

import re

__all__ = ["redact"]

# Vendor key shapes (sk-..., sk-ant-..., gsk_..., long hex/base64 tokens after
# "Bearer"). Provider error messages sometimes echo the key ("Incorrect API key
# provided: sk-abc...") so every message is passed through this before use.
_PATTERNS = [
    re.compile(r"\b(?:sk|pk|rk|gsk|xai|sk-ant|sk-or|csk)[-_][A-Za-z0-9_\-]{6,}"),
    re.compile(r"(?i)(bearer\s+)[A-Za-z0-9._\-]{8,}"),
    re.compile(
        r"(?i)((?:api[-_]?key|x-api-key|authorization)[\"']?\s*[:=]\s*[\"']?)[^\s\"',}]{6,}"
    ),
]


def redact(text: str, *secrets: str | None) -> str:
    """Return ``text`` with known ``secrets`` and anything shaped like a key masked."""
    for secret in secrets:
        if secret and len(secret) >= 4:
            text = text.replace(secret, "***")
    text = _PATTERNS[0].sub("***", text)
    for pattern in _PATTERNS[1:]:
        text = pattern.sub(lambda m: m.group(1) + "***", text)
    return text

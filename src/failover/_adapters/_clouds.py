"""Claude on AWS Bedrock and Google Vertex AI, through the anthropic SDK's own clients.

The request and answer are Anthropic's Messages API, so these adapters are the Anthropic
adapter with another client: ``AnthropicBedrock`` moves the model into the URL, adds
``anthropic_version`` and signs (SigV4 with AWS's credential chain, or a Bedrock bearer
token), and decodes Bedrock's binary event streams with botocore; ``AnthropicVertex``
does the same for Vertex AI's ``:rawPredict`` with a Google access token (given, or from
Application Default Credentials). What differs is how they fail (``cloud_failure``).
"""

from __future__ import annotations

import importlib
from typing import Any

import anthropic

from .._core.decisions import Failure
from ._anthropic import AnthropicAdapter
from ._bounded_io import bounded_http_client
from ._errors import cloud_failure, failure_from

__all__ = ["BedrockAdapter", "VertexAdapter"]


class _CloudAdapter(AnthropicAdapter):
    """The Anthropic adapter on a cloud's client classes (``clients``: sync, async)."""

    clients: tuple[Any, Any]

    def _base(self) -> dict[str, Any]:
        return {"base_url": self.target.base_url, "max_retries": 0, "timeout": self._timeout}

    def _make_sync(self) -> anthropic.Anthropic:
        http = self._watched(bounded_http_client(anthropic))
        return self.clients[0](**self._client_kwargs(), http_client=http)  # type: ignore[no-any-return]

    def _make_async(self) -> anthropic.AsyncAnthropic:
        return self.clients[1](**self._client_kwargs(), **self._async_http())  # type: ignore[no-any-return]

    def failure(self, exc: BaseException) -> Failure | None:
        return cloud_failure(exc, failure_from(exc, self.sdk, self.target.api_key))


class BedrockAdapter(_CloudAdapter):
    clients = (anthropic.AnthropicBedrock, anthropic.AsyncAnthropicBedrock)

    def _client_kwargs(self) -> dict[str, Any]:
        kwargs = {**self._base(), "aws_region": self.target.region}
        if self.target.api_key:  # a bearer token; else AWS's credential chain signs
            kwargs["api_key"] = self.target.api_key
        return kwargs

    def _warm(self, client: Any) -> None:
        super()._warm(client)
        # The first stream would otherwise import botocore's event-stream decoder and
        # parser, and load Bedrock's service model (some 200 ms, measured here).
        from anthropic.lib.bedrock._stream_decoder import (
            AWSEventStreamDecoder,
            get_response_stream_shape,
        )

        AWSEventStreamDecoder()
        get_response_stream_shape()
        importlib.import_module("botocore.eventstream")


class VertexAdapter(_CloudAdapter):
    clients = (anthropic.AnthropicVertex, anthropic.AsyncAnthropicVertex)

    def _client_kwargs(self) -> dict[str, Any]:
        kwargs = {**self._base(), "region": self.target.region}
        if self.target.project:
            kwargs["project_id"] = self.target.project
        if self.target.api_key:  # an access token; else Application Default Credentials
            kwargs["access_token"] = self.target.api_key
        return kwargs

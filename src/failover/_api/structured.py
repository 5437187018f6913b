"""``client.chat.completions.parse(...)``: a Pydantic model as the answer's shape, whoever
answers it.

The model becomes a strict JSON-schema ``response_format`` with openai's own helper (the
same one ``openai``'s ``parse`` uses), so each target receives what it would from the
openai SDK (and Anthropic targets its ``output_config``, ``_adapters/_anthropic_schema``).
Each answer is parsed with openai's parser inside its attempt, so an answer that does not
validate is that target's bad answer: retried, then failed over. A refusal comes back
as openai returns one (``message.refusal``, ``parsed`` None); a content filter raises
``ContentFiltered`` and an answer cut at ``max_tokens`` raises ``RequestRejected``, as the
request itself is what another target would trip on too.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any, TypeVar

import pydantic
from openai import ContentFilterFinishReasonError, LengthFinishReasonError
from openai.lib._parsing._completions import parse_chat_completion, type_to_response_format_param
from openai.types.chat import ChatCompletion, ParsedChatCompletion
from openai.types.responses import ParsedResponse, Response

from .._adapters._errors import ProviderFault, malformed_answer
from .._core.decisions import ErrorKind, Failure

__all__ = ["checked_parse", "parsed", "parsed_response", "response_format_for"]

T = TypeVar("T")


def response_format_for(shape: type[Any]) -> dict[str, Any]:
    """The ``response_format`` the openai SDK would send for ``shape``."""
    return dict(type_to_response_format_param(shape))  # type: ignore[arg-type]


def parsed(answer: ChatCompletion, shape: type[Any]) -> ParsedChatCompletion[Any]:
    """``answer`` with ``message.parsed`` filled in; a fault when it does not validate."""
    return checked_parse(
        lambda: parse_chat_completion(
            response_format=shape, input_tools=[], chat_completion=answer
        ),
        shape,
    )


def parsed_response(answer: Response, shape: type[Any]) -> ParsedResponse[Any]:
    """A Responses answer with ``output_parsed``; the same faults as :func:`parsed`."""
    from openai.lib._parsing._responses import parse_response

    details = answer.incomplete_details
    if answer.status == "incomplete" and details is not None:
        if details.reason == "content_filter":
            raise ContentFilterFinishReasonError()
        raise LengthFinishReasonError(completion=answer)  # type: ignore[arg-type]
    return checked_parse(
        lambda: parse_response(text_format=shape, input_tools=None, response=answer), shape
    )


def checked_parse(parse: Callable[[], T], shape: type[Any]) -> T:
    """``parse()``; an answer that was filtered, cut short or does not validate as
    ``shape`` becomes the fault it is."""
    try:
        return parse()
    except ContentFilterFinishReasonError:
        raise ProviderFault(
            Failure(kind=ErrorKind.CONTENT_FILTER, message="the answer was filtered")
        ) from None
    except LengthFinishReasonError:
        what = "the answer was cut at max_tokens before its JSON was complete"
        raise ProviderFault(Failure(kind=ErrorKind.BAD_REQUEST, message=what)) from None
    except (pydantic.ValidationError, json.JSONDecodeError, ValueError) as exc:
        raise malformed_answer(f"the answer does not match {shape.__name__}: {exc}"[:200]) from exc

"""One Responses call's place in a conversation (``_responses/state.py``): the turn it
follows, what each target is sent, and keeping the answer for the next turn."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from .._core.errors import ConversationExpired
from .._responses.state import KEEP_SECONDS, Transcripts, Turn, as_items, maker_of, output_items
from .._responses.state import response_id as new_response_id
from .._routing.call import Call

if TYPE_CHECKING:
    from openai.types.responses import Response

    from .._config.policy import Target
    from .._routing.privacy import Guard
    from .._routing.router import Router

__all__ = ["Conversation"]


class Conversation:
    """See the module's docstring. ``request`` is what the call sends (the whole
    transcript as input, so that the data policy and ``before_send`` see all of it)."""

    def __init__(self, params: Mapping[str, Any], follows: str | None, turn: Turn | None) -> None:
        self._follows, self._turn = follows, turn
        self._prior = len(turn.items) if turn is not None else 0
        self._store = params.get("store") is not False
        request = {k: v for k, v in params.items() if k != "previous_response_id" or not turn}
        if turn is not None:
            request["input"] = [*turn.items, *as_items(params["input"])]
        self.request = request

    @staticmethod
    def _ours(params: Mapping[str, Any]) -> str | None:
        rid = params.get("previous_response_id")
        return rid if isinstance(rid, str) and maker_of(rid) is not None else None

    @classmethod
    def open(cls, transcripts: Transcripts, params: Mapping[str, Any]) -> Conversation:
        """The conversation of ``params``; :class:`ConversationExpired` before any
        request if it follows a response whose transcript is gone."""
        rid = cls._ours(params)
        return cls(params, rid, _found(rid, transcripts.find(rid)) if rid else None)

    @classmethod
    async def aopen(cls, transcripts: Transcripts, params: Mapping[str, Any]) -> Conversation:
        rid = cls._ours(params)
        return cls(params, rid, _found(rid, await transcripts.afind(rid)) if rid else None)

    def call(
        self,
        router: Router,
        guard: Guard,
        timeout: float | None,
        request: dict[str, Any] | None = None,
        *,
        stream: bool = False,
    ) -> Call:
        """The call that sends ``request`` (default :attr:`request`), with the target
        that made the previous response first: while it is healthy, the follow-up goes
        to it natively. A stream's verdict waits for the stream's end."""
        request = self.request if request is None else request
        call = Call(router, timeout, request=request, guard=guard, defer_verdict=stream)
        turn = self._turn
        if turn is not None:
            chain = list(call.chain)
            maker = [t for t in chain if t.label == turn.target]
            call.chain = tuple(maker + [t for t in chain if t.label != turn.target])
        return call

    def for_target(self, target: Target, sent: dict[str, Any]) -> dict[str, Any]:
        """What ``target`` is sent: the new input after the vendor's own id, if it made
        the previous response and kept it; else the transcript, replayed."""
        turn = self._turn
        if turn is None:
            return sent
        items = list(sent["input"])
        native = target.native_responses and turn.vendor_id and target.label == turn.target
        if native and len(items) >= self._prior:
            return {**sent, "input": items[self._prior :], "previous_response_id": turn.vendor_id}
        if target.label != turn.target:  # another target never sees the maker's reasoning
            kept = Turn(turn.target, None, items[: self._prior]).replay(same_target=False)
            items = [*kept, *items[self._prior :]]
        return {**sent, "input": items}

    @property
    def follows(self) -> str | None:
        """The id of failover's own this call follows up (None: a first turn)."""
        return self._follows

    def answered(
        self,
        transcripts: Transcripts,
        target: Target,
        answer: Response,
        rid: str | None = None,
        vendor_id: str | None = None,
    ) -> Response:
        """``answer`` under an id of failover's own (``rid``, else a new one), kept for
        the next turn; ``vendor_id`` is the vendor's own id, if not ``answer.id``."""
        rid = rid or new_response_id(target.label)
        self.keep(transcripts, target, answer, rid, vendor_id or answer.id)
        return answer.model_copy(update={"id": rid, "previous_response_id": self._follows})

    def keep(
        self, transcripts: Transcripts, target: Target, answer: Response, rid: str, vendor: str
    ) -> None:
        """Keep ``answer``'s transcript under ``rid`` (nothing with ``store=False``);
        ``vendor`` is the vendor's own id for it."""
        if self._store:
            items = [*as_items(self.request.get("input")), *output_items(answer)]
            vendor_id = vendor if target.native_responses else None
            transcripts.keep(rid, Turn(target.label, vendor_id, items))


def _found(rid: str, turn: Turn | None) -> Turn:
    if turn is None:
        raise ConversationExpired(
            f"previous_response_id {rid!r} (answered by {maker_of(rid)}) is not kept: "
            f"failover keeps a response's transcript for {KEEP_SECONDS:.0f} s, in this "
            "process or in the fleet's Redis (FAILOVER_REDIS_URL), and none for a "
            "response made with store=False; send the conversation as input instead"
        )
    return turn

"""A ceiling on request bodies for every route, applied before any route reads one."""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from hrdata.api.errors import answer
from hrdata.errors import PayloadTooLarge


class BodyLimit:
    """Refuse bodies over `limit` bytes as PayloadTooLarge (413): at once when Content-Length
    says so, and as soon as a streamed body passes it, so no route buffers more than `limit`."""

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length", b"")
        if declared.isdigit() and int(declared) > self.limit:
            message = f"the body is {int(declared)} bytes; the limit is {self.limit}"
            await answer(PayloadTooLarge(message))(scope, receive, send)
            return
        too_large = PayloadTooLarge(f"the body is over the limit of {self.limit} bytes")
        received = 0
        over = False  # some routes turn a failed body read into their own 4xx: answer 413

        async def limited() -> Message:
            nonlocal received, over
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.limit:
                    over = True
                    raise too_large
            return message

        answered = False

        async def checked_send(message: Message) -> None:
            nonlocal answered
            if not over:
                await send(message)
            elif not answered:
                answered = True
                await answer(too_large)(scope, receive, send)

        await self.app(scope, limited, checked_send)

"""The server of `crowdsim viz`: Solara's own, with malformed websocket frames dropped.

Solara's kernel channel parses every frame it receives without a guard, so one junk frame
from any client ends in an unhandled exception in the server log. The middleware below
lets through only frames shaped as Jupyter messages (a header with a message type, a
channel), and notes each dropped one in a single line.
"""

from __future__ import annotations

import json
import struct
import sys
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]


def well_formed(message: Message) -> bool:
    """A websocket frame that Solara's kernel loop can read (text JSON or its binary form)."""
    from solara.server.kernel import deserialize_binary_message  # noqa: PLC0415

    try:
        if message.get("text") is not None:
            msg = json.loads(message["text"])
        elif message.get("bytes") is not None:
            msg = deserialize_binary_message(message["bytes"])
        else:
            return False
    except (ValueError, struct.error, IndexError, TypeError):
        return False
    header = msg.get("header") if isinstance(msg, dict) else None
    return (
        isinstance(header, dict)
        and isinstance(header.get("msg_type"), str)
        and isinstance(msg.get("channel"), str)
        and isinstance(msg.get("content", {}), dict)
    )


class DropMalformedFrames:
    """ASGI middleware: a websocket frame that is not a Jupyter message never reaches Solara."""

    def __init__(self, app: Callable[[Message, Receive, Send], Awaitable[None]]) -> None:
        self.app = app

    async def __call__(self, scope: Message, receive: Receive, send: Send) -> None:
        """Pass HTTP through; filter a websocket's incoming frames."""
        if scope["type"] != "websocket":
            await self.app(scope, receive, send)
            return

        async def checked() -> Message:
            while True:
                message = await receive()
                if message["type"] != "websocket.receive" or well_formed(message):
                    return message
                client = scope.get("client") or ("?", 0)
                print(
                    f"crowdsim viz: dropped a malformed websocket frame from {client[0]}",
                    file=sys.stderr,
                    flush=True,
                )

        await self.app(scope, checked, send)


def main(argv: list[str]) -> None:
    """`solara ARGV` (e.g. run app.py), the app wrapped in the middleware as uvicorn loads it.

    Solara's app module reads the settings its command line sets, so it is wrapped when
    uvicorn imports it, not before.
    """
    import uvicorn  # noqa: PLC0415 - optional [viz] extra
    from solara.__main__ import cli  # noqa: PLC0415

    load = uvicorn.Config.load

    def load_wrapped(config: uvicorn.Config) -> None:
        load(config)
        config.loaded_app = DropMalformedFrames(config.loaded_app)

    uvicorn.Config.load = load_wrapped
    cli(argv)


if __name__ == "__main__":
    main(sys.argv[1:])

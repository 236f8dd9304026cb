"""One socket write per connection per turn of the event loop, instead of one per piece.

uvicorn writes an HTTP answer's head and its body apart, and a live client's pending messages one
WebSocket frame each: each write is a system call at once, and on loopback one that also runs the
reader's side of TCP and wakes it. Under a class's load these writes were the server's largest cost
(docs/performance.md, 2026-11-30). Here what a connection writes during one turn of the loop is kept
and sent as one write right after that turn: the same bytes, in the same order, a turn later.
"""

from __future__ import annotations

import asyncio
from typing import Any

from uvicorn.protocols.http.auto import AutoHTTPProtocol


class CoalescingTransport:
    """Wraps a transport: write() keeps the bytes and sends what a turn of the loop wrote as one write;
    close() and write_eof() send what is kept first, abort() drops it; anything else is the transport's."""

    def __init__(self, transport: asyncio.Transport, loop: asyncio.AbstractEventLoop) -> None:
        self._transport, self._loop = transport, loop
        self._kept: list[bytes] = []

    def write(self, data: bytes | bytearray | memoryview) -> None:
        if not self._kept:
            self._loop.call_soon(self._flush)
        self._kept.append(bytes(data))

    def writelines(self, lines: Any) -> None:
        for data in lines:
            self.write(data)

    def _flush(self) -> None:
        kept, self._kept = self._kept, []
        if kept and not self._transport.is_closing():
            self._transport.write(kept[0] if len(kept) == 1 else b"".join(kept))

    def get_write_buffer_size(self) -> int:
        return self._transport.get_write_buffer_size() + sum(map(len, self._kept))

    def write_eof(self) -> None:
        self._flush()
        self._transport.write_eof()

    def close(self) -> None:
        self._flush()
        self._transport.close()

    def abort(self) -> None:
        self._kept = []
        self._transport.abort()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._transport, name)


class CoalescingHTTPProtocol(AutoHTTPProtocol):  # type: ignore[misc, valid-type]
    """uvicorn's HTTP protocol (httptools when installed) on a CoalescingTransport. A WebSocket is an
    upgraded HTTP connection: uvicorn hands its protocol this same transport, so live frames coalesce too."""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:  # type: ignore[override]
        super().connection_made(CoalescingTransport(transport, asyncio.get_running_loop()))  # type: ignore[arg-type]

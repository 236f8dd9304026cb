"""app/server/coalesce.py: what a connection writes in one turn of the event loop reaches the socket as
one write, the same bytes in the same order; closing sends what is kept first. On real loopback
sockets (the served paths, HTTP and the live WebSocket, are in test_serving.py and test_live.py)."""

from __future__ import annotations

import asyncio

from app.server.coalesce import CoalescingTransport


class Counting(asyncio.Protocol):
    """A client's side: everything it received, and how many reads it took."""

    def __init__(self) -> None:
        self.data, self.reads, self.closed = b"", 0, asyncio.Event()

    def data_received(self, data: bytes) -> None:
        self.data += data
        self.reads += 1

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed.set()


async def pair() -> tuple[CoalescingTransport, asyncio.Transport, Counting, list[int]]:
    """Return (the server side's coalescing transport, its real transport, the client, the sizes of the
    real transport's writes), over a real loopback TCP connection."""
    loop = asyncio.get_running_loop()
    accepted: asyncio.Future[asyncio.Transport] = loop.create_future()

    class Server(asyncio.Protocol):
        def connection_made(self, transport: asyncio.BaseTransport) -> None:
            accepted.set_result(transport)  # type: ignore[arg-type]

    server = await loop.create_server(Server, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    _, client = await loop.create_connection(Counting, "127.0.0.1", port)
    real = await accepted
    server.close()
    sizes: list[int] = []
    write = real.write

    def counted(data: bytes) -> None:   # the real transport still writes; this only counts its calls
        sizes.append(len(data))
        write(data)

    real.write = counted  # type: ignore[method-assign]
    return CoalescingTransport(real, loop), real, client, sizes


async def received(client: Counting, size: int) -> bytes:
    while len(client.data) < size:
        await asyncio.sleep(0.001)
    return client.data


def test_writes_of_one_turn_go_out_as_one_write_in_order():
    async def main() -> None:
        transport, real, client, sizes = await pair()
        for piece in (b"HTTP/1.1 200 OK\r\n\r\n", bytearray(b"body-1;"), memoryview(b"body-2")):
            transport.write(piece)
        assert sizes == [], "written at once, not after the turn"
        assert transport.get_write_buffer_size() == 32
        assert await asyncio.wait_for(received(client, 32), 30) == b"HTTP/1.1 200 OK\r\n\r\nbody-1;body-2"
        assert sizes == [32]
        transport.writelines([b"next ", b"turn"])
        await asyncio.wait_for(received(client, 41), 30)
        assert sizes == [32, 9] and client.data.endswith(b"next turn")
        assert transport.get_extra_info("peername")[0] == "127.0.0.1"   # the rest is the transport's
        real.close()
    asyncio.run(main())


def test_close_sends_what_is_kept_first_and_abort_drops_it():
    async def main() -> None:
        transport, _, client, sizes = await pair()
        transport.write(b"last words")
        transport.close()
        await asyncio.wait_for(client.closed.wait(), 30)
        assert client.data == b"last words" and sizes == [10]

        transport, _, client, sizes = await pair()
        transport.write(b"never sent")
        transport.abort()
        await asyncio.wait_for(client.closed.wait(), 30)
        await asyncio.sleep(0)   # the turn in which the kept bytes would have gone out
        assert client.data == b"" and sizes == []
    asyncio.run(main())


def test_nothing_is_written_to_a_transport_closed_in_the_same_turn():
    async def main() -> None:
        transport, real, client, sizes = await pair()
        transport.write(b"too late")
        real.close()    # the connection went away (uvicorn closes the real transport on errors)
        await asyncio.wait_for(client.closed.wait(), 30)
        assert sizes == [] and client.data == b""
    asyncio.run(main())


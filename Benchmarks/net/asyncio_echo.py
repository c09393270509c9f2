#!/usr/bin/env python3
"""An asyncio streams echo server, the Python peer of the echo benchmark.

    asyncio_echo.py [PORT]        (0 or nothing: a free port)

The plain idiom, nothing tuned: asyncio.start_server, then per connection
reader.read(65536), writer.write, await writer.drain(). The default event
loop (epoll; asyncio sets TCP_NODELAY on its sockets). Listens on 127.0.0.1
only and prints "listening PORT" once it accepts.
"""

import asyncio
import sys


async def echo(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    except ConnectionError:
        pass                                  # a client gone mid-write: its loss only
    finally:
        writer.close()


async def main(port: int) -> None:
    server = await asyncio.start_server(echo, "127.0.0.1", port, backlog=1024)
    print("listening", server.sockets[0].getsockname()[1], flush=True)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    if len(sys.argv) > 2:
        sys.exit("usage: asyncio_echo.py [PORT]")
    asyncio.run(main(int(sys.argv[1]) if len(sys.argv) > 1 else 0))

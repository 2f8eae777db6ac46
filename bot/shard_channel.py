"""The pipe between the shard parent and one worker process (see `bot.shards`).

A socketpair carries length-prefixed frames; each frame is one pickled list of
messages (tuples whose first item names the kind). Messages queued during one turn of
the event loop go out as one frame, so at 1,000 msg/s the parent and the workers pay
one pickle and one system call per loop turn, not one per message.
"""

from __future__ import annotations

import asyncio
import logging
import pickle
import socket
import struct
from collections.abc import AsyncIterator
from typing import Any

log = logging.getLogger(__name__)

_HEADER = struct.Struct("!I")

#: Bytes the writer may buffer before `drain` makes the sender wait (backpressure).
HIGH_WATER = 4 * 1024 * 1024


class ChannelClosed(ConnectionError):
    """The other end of a shard channel went away (its process exited or died)."""


class Channel:
    """Message passing over one stream socket, batched per event-loop turn."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer
        self._outbox: list[tuple] = []
        self._flush_scheduled = False
        self.closed = False
        #: Frames and messages sent, for the benchmark's IPC figures.
        self.frames = 0
        self.messages = 0

    @classmethod
    async def open(cls, sock: socket.socket) -> Channel:
        """Wrap a connected stream socket (one end of a socketpair)."""
        reader, writer = await asyncio.open_connection(sock=sock, limit=HIGH_WATER)
        writer.transport.set_write_buffer_limits(high=HIGH_WATER)
        return cls(reader, writer)

    def send(self, msg: tuple) -> None:
        """Queue `msg`; everything queued in this loop turn is written as one frame."""
        if self.closed:
            raise ChannelClosed("shard channel is closed")
        self._outbox.append(msg)
        if not self._flush_scheduled:
            self._flush_scheduled = True
            asyncio.get_running_loop().call_soon(self._flush)

    def _flush(self) -> None:
        self._flush_scheduled = False
        if not self._outbox or self.closed:
            self._outbox.clear()
            return
        batch, self._outbox = self._outbox, []
        try:
            data = pickle.dumps(batch, protocol=pickle.HIGHEST_PROTOCOL)
        except Exception:
            # One unpicklable message must not take the batch with it.
            data = pickle.dumps([m for m in batch if _picklable(m)], protocol=pickle.HIGHEST_PROTOCOL)
            log.exception("a shard message could not be pickled and was dropped")
        try:
            self.writer.write(_HEADER.pack(len(data)) + data)
        except Exception:
            log.debug("writing to a shard channel failed", exc_info=True)
            self.closed = True
            return
        self.frames += 1
        self.messages += len(batch)

    async def drain(self) -> None:
        """Wait while the socket's write buffer is above its high-water mark."""
        self._flush()
        try:
            await self.writer.drain()
        except (ConnectionError, RuntimeError) as exc:
            raise ChannelClosed(str(exc)) from exc

    async def messages_in(self) -> AsyncIterator[Any]:
        """Yield incoming messages in order until the other end closes."""
        while True:
            try:
                head = await self.reader.readexactly(_HEADER.size)
                (n,) = _HEADER.unpack(head)
                data = await self.reader.readexactly(n)
            except (asyncio.IncompleteReadError, ConnectionError):
                self.closed = True
                return
            for msg in pickle.loads(data):
                yield msg

    async def close(self) -> None:
        """Send what is queued and close the socket."""
        if not self.closed:
            self._flush()
            self.closed = True
        try:
            self.writer.close()
            await self.writer.wait_closed()
        except Exception:
            log.debug("closing a shard channel failed", exc_info=True)


def _picklable(msg: Any) -> bool:
    try:
        pickle.dumps(msg)
        return True
    except Exception:
        return False

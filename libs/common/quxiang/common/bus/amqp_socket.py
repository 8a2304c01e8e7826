"""A py-amqp connection that makes fewer system calls per message.

py-amqp's TCP transport asks the socket for exactly the bytes of the next frame part (nine ``recv``
calls a message), sets and resets the socket timeout around every frame it reads, and sends every
published message with its own ``sendall``. Profiles of the consumer and the relay put those calls
at the top. This transport:
- reads up to 64 KiB at a time into py-amqp's own read buffer (its ``_read`` already slices it and
  keeps the rest, and ``read_frame`` puts a partial frame back on a timeout);
- leaves the socket timeout alone when a whole frame is already buffered, since reading it touches
  no socket;
- can be corked: writes are collected and sent in one call when uncorked (the relay corks around a
  batch of publishes).
TLS connections keep py-amqp's own transport.
"""

from __future__ import annotations

import errno
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import amqp
from amqp import transport as amqp_transport
from kombu.transport import pyamqp

CHUNK = 65536


class ChunkedTCPTransport(amqp_transport.TCPTransport):
    # What was received and not yet handed out: ``_chunk[_pos:]``. An offset instead of slicing the
    # rest off after every read, which would copy up to a whole chunk for each 7-byte frame header.
    _chunk: bytes = b""
    _pos: int = 0

    def _read(self, n: int, initial: bool = False, _errnos: tuple[int, ...] = (errno.EAGAIN, errno.EINTR)) -> bytes:
        if self._read_buffer:
            # read_frame puts a partial frame back here after a timeout: it comes first.
            self._chunk, self._pos = self._read_buffer + self._chunk[self._pos:], 0
            self._read_buffer = b""
        recv = self._quick_recv
        while len(self._chunk) - self._pos < n:
            try:
                data = recv(max(n - (len(self._chunk) - self._pos), CHUNK))
            except OSError as exc:
                if exc.errno in _errnos:
                    if initial and self.raise_on_initial_eintr:
                        raise TimeoutError() from exc
                    continue
                raise
            if not data:
                raise OSError("Server unexpectedly closed connection")
            self._chunk, self._pos = self._chunk[self._pos:] + data, 0
        result = self._chunk[self._pos:self._pos + n]
        self._pos += n
        return result

    def _frame_buffered(self) -> bool:
        if self._read_buffer:
            return False
        chunk, pos = self._chunk, self._pos
        # A frame: type (1), channel (2), size (4), payload (size), end marker (1).
        return len(chunk) - pos >= 7 and len(chunk) - pos >= int.from_bytes(chunk[pos + 3:pos + 7], "big") + 8

    @contextmanager
    def having_timeout(self, timeout: float | None) -> Iterator[Any]:
        if timeout is not None and self._frame_buffered():
            yield self.sock
            return
        with super().having_timeout(timeout) as sock:
            yield sock

    _corked: list[bytes] | None = None

    def write(self, s: bytes) -> None:
        if self._corked is not None:
            # A copy: py-amqp's frame writer hands over a view of a buffer it reuses for the next frame.
            self._corked.append(bytes(s))
        else:
            super().write(s)

    @contextmanager
    def corked(self) -> Iterator[None]:
        """Collect writes and send them together at the end of the block."""
        self._corked = []
        try:
            yield
        finally:
            pending, self._corked = self._corked, None
            if pending:
                super().write(b"".join(pending))


class ChunkedConnection(amqp.Connection):
    def Transport(self, host: str, connect_timeout: float | None, ssl: Any = False,  # noqa: N802 - py-amqp's name
                  read_timeout: float | None = None, write_timeout: float | None = None,
                  socket_settings: Any = None, **kwargs: Any) -> amqp_transport._AbstractTransport:
        if ssl:
            return super().Transport(host, connect_timeout, ssl, read_timeout, write_timeout, socket_settings,
                                     **kwargs)
        return ChunkedTCPTransport(host, connect_timeout=connect_timeout, read_timeout=read_timeout,
                                   write_timeout=write_timeout, socket_settings=socket_settings, **kwargs)


class ChunkedKombuTransport(pyamqp.Transport):
    """kombu's py-amqp transport on ``ChunkedConnection``: ``kombu.Connection(url, transport=...)``."""

    Connection = ChunkedConnection

"""A py-amqp connection that makes fewer system calls per message.

py-amqp's TCP transport asks the socket for exactly the bytes of the next frame part (nine ``recv``
calls a message), sets and resets the socket timeout around every frame it reads, and sends every
published message with its own ``sendall``. Profiles of the consumer and the relay put those calls
at the top. This transport:
- reads up to 64 KiB at a time into py-amqp's own read buffer (its ``_read`` already slices it and
  keeps the rest, and ``read_frame`` puts a partial frame back on a timeout);
- leaves the socket timeout alone when a whole frame is already buffered, since reading it touches
  no socket;
- can be corked: writes are collected and sent in one call when uncorked;
- hands out a frame that is whole in the buffer without a ``_read`` per part (``buffered_frame``).
``PublishFrames`` encodes basic.publish frames directly, for a batch sent in one write: py-amqp's
generic argument and property serialization was the largest part of the relay's own time.
TLS connections keep py-amqp's own transport.
"""

from __future__ import annotations

import errno
import struct
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import amqp
from amqp import transport as amqp_transport
from amqp.serialization import dumps as amqp_dumps
from kombu.transport import pyamqp

CHUNK = 65536
_FRAME_HEADER = struct.Struct(">BHI")  # type, channel, payload size; the payload and 0xCE follow
_FRAME_END = 0xCE


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

    def buffered_frame(self) -> tuple[int, int, bytes] | None:
        """The next frame (type, channel, payload) if it is whole in the buffer, else None.

        Cuts it straight out of the chunk: no socket, no timeout, no ``_read`` per part. A frame
        whose end marker is wrong is left to ``read_frame``, which reports it."""
        if self._read_buffer:
            return None
        chunk, pos = self._chunk, self._pos
        if len(chunk) - pos < 8:
            return None
        frame_type, channel, size = _FRAME_HEADER.unpack_from(chunk, pos)
        end = pos + 7 + size
        if end >= len(chunk) or chunk[end] != _FRAME_END:
            return None
        self._pos = end + 1
        return frame_type, channel, chunk[pos + 7:end]

    def read_frame(self, unpack: Any = struct.unpack) -> tuple[int, int, bytes]:
        return self.buffered_frame() or super().read_frame(unpack)

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


_BASIC_PUBLISH = struct.pack(">HHH", 60, 40, 0)  # class basic, method publish, reserved ticket
_HEADER_START = struct.Struct(">BHIHHQH")  # frame type 2, channel, size; class, weight, body size, flags
_EMPTY_TABLE = b"\x00\x00\x00\x00"


def _shortstr(value: str) -> bytes:
    raw = value.encode()
    if len(raw) > 255:
        raise ValueError(f"AMQP short string too long: {value[:50]!r}...")
    return bytes((len(raw),)) + raw


class PublishFrames:
    """The frames of one basic.publish (method, content header, body), as py-amqp would write them for
    a message with content type, headers, delivery mode and message id: byte for byte the same, built
    with a few ``struct`` calls instead of its generic serializers. The method frame of an (exchange,
    routing key) pair is built once."""

    def __init__(self, channel_id: int, frame_max: int) -> None:
        self.channel_id = channel_id
        self.body_max = frame_max - 8
        self._methods: dict[tuple[str, str], bytes] = {}

    def _method(self, exchange: str, routing_key: str) -> bytes:
        key = (exchange, routing_key)
        frame = self._methods.get(key)
        if frame is None:
            # The last octet: neither mandatory nor immediate.
            payload = _BASIC_PUBLISH + _shortstr(exchange) + _shortstr(routing_key) + b"\x00"
            frame = _FRAME_HEADER.pack(1, self.channel_id, len(payload)) + payload + b"\xce"
            self._methods[key] = frame
        return frame

    def encode(self, exchange: str, routing_key: str, body: bytes, *, content_type: str | None,
               headers: dict[str, Any] | None, delivery_mode: int | None, message_id: str | None) -> list[bytes]:
        flags = 0
        props = []
        if content_type is not None:
            flags |= 0x8000
            props.append(_shortstr(content_type))
        if headers is not None:
            flags |= 0x2000
            props.append(amqp_dumps("F", [headers]) if headers else _EMPTY_TABLE)
        if delivery_mode is not None:
            flags |= 0x1000
            props.append(bytes((delivery_mode,)))
        if message_id is not None:
            flags |= 0x0080
            props.append(_shortstr(message_id))
        properties = b"".join(props)
        channel = self.channel_id
        out = [self._method(exchange, routing_key),
               _HEADER_START.pack(2, channel, 14 + len(properties), 60, 0, len(body), flags), properties, b"\xce"]
        step = self.body_max
        for start in range(0, len(body), step):
            part = body[start:start + step]
            out += (_FRAME_HEADER.pack(3, channel, len(part)), part, b"\xce")
        return out


class ChunkedConnection(amqp.Connection):
    def blocking_read(self, timeout: float | None = None) -> Any:
        # A frame already in the buffer needs no socket timeout set and restored around it.
        transport = self.transport
        buffered = getattr(transport, "buffered_frame", None)
        frame = buffered() if buffered is not None else None
        if frame is None:
            with transport.having_timeout(timeout):
                frame = transport.read_frame()
        return self.on_inbound_frame(frame)

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

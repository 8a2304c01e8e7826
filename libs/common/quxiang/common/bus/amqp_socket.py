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
- hands out a frame that is whole in the buffer without a ``_read`` per part (``buffered_frame``);
- takes basic.deliver (method, content header, body) through a shortcut of py-amqp's frame handler
  and channel dispatch (``deliver_frame_handler``), the consumer's message path.
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
from amqp import method_framing, spec
from amqp import transport as amqp_transport
from amqp.basic_message import Message
from amqp.exceptions import UnexpectedFrame
from amqp.serialization import decode_properties_basic
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


_DELIVER = struct.pack(">HH", *spec.Basic.Deliver)
_CONTENT_HEADER = struct.Struct(">HxxQ")  # class, weight, body size; the properties follow
_DELIVERY_TAG = struct.Struct(">QB")  # delivery tag, then the octet holding the redelivered bit


def _shortstrs(buf: bytes, offset: int, count: int) -> tuple[list[str], int]:
    out = []
    for _ in range(count):
        size = buf[offset]
        out.append(buf[offset + 1:offset + 1 + size].decode("utf-8", "surrogatepass"))
        offset += 1 + size
    return out, offset


def deliver_frame_handler(connection: amqp.Connection, callback: Any) -> Any:
    """py-amqp's frame handler with a shortcut for basic.deliver, the frames a consumer mostly reads.

    A delivery's three frames are assembled here and, in the plain case (an open channel with its
    deliver callback, nobody waiting for a deliver method, no content encoding to apply), handed to
    the channel's ``_on_basic_deliver`` with arguments parsed by ``struct``: what py-amqp's
    ``dispatch_method`` would do after its generic argument parser. Everything else, and any
    delivery outside the plain case, takes py-amqp's own path."""
    generic = method_framing.frame_handler(connection, callback)
    partial: dict[int, list[Any]] = {}  # channel -> [message, the frame type expected next]

    def on_frame(frame: tuple[int, int, bytes]) -> bool:
        frame_type, channel, buf = frame
        pending = partial.get(channel)
        if pending is None:
            if frame_type != 1 or buf[:4] != _DELIVER:
                return generic(frame)
            connection.bytes_recv += 1
            partial[channel] = [Message(frame_method=spec.Basic.Deliver, frame_args=buf), 2]
            return False
        connection.bytes_recv += 1
        msg, expected = pending
        if frame_type != expected and not (frame_type == 3 and expected == 3):
            raise UnexpectedFrame(f"Received frame {frame_type} while expecting type: {expected}")
        if frame_type == 2:
            msg.body_size = _CONTENT_HEADER.unpack_from(buf, 0)[1]
            msg.properties = decode_properties_basic(buf, 12)[0]
            if msg.body_size:
                pending[1] = 3
                return False
            msg.ready = True
        else:
            msg.inbound_body(buf)
            if not msg.ready:
                return False
        del partial[channel]
        _dispatch_deliver(connection, channel, msg, callback)
        return True

    return on_frame


def _dispatch_deliver(connection: amqp.Connection, channel_id: int, msg: Message, callback: Any) -> None:
    channels = connection.channels
    channel = channels.get(channel_id) if channels is not None else None
    listener = channel._callbacks.get(spec.Basic.Deliver) if channel is not None else None
    if (listener is None or channel.is_closing or spec.Basic.Deliver in channel._pending
            or "content_encoding" in msg.properties):
        callback(channel_id, spec.Basic.Deliver, msg.frame_args, msg)  # py-amqp's own dispatch
        return
    buf = msg.frame_args
    (consumer_tag,), offset = _shortstrs(buf, 4, 1)
    delivery_tag, bits = _DELIVERY_TAG.unpack_from(buf, offset)
    (exchange, routing_key), _ = _shortstrs(buf, offset + 9, 2)
    listener(consumer_tag, delivery_tag, bool(bits & 1), exchange, routing_key, msg)


class ChunkedConnection(amqp.Connection):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.frame_handler_cls = deliver_frame_handler

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

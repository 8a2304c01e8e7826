"""A py-amqp connection that reads the socket in large chunks.

py-amqp's TCP transport asks the socket for exactly the bytes of the next frame part, so a message
costs nine ``recv`` calls. Asking for up to 64 KiB keeps what follows in py-amqp's own read buffer
(its ``_read`` already slices it and keeps the rest, and ``read_frame`` puts a partial frame back on
a timeout), so a batch of messages costs a few calls. TLS connections keep py-amqp's transport.
"""

from __future__ import annotations

import errno
from typing import Any

import amqp
from amqp import transport as amqp_transport
from kombu.transport import pyamqp

CHUNK = 65536


class ChunkedTCPTransport(amqp_transport.TCPTransport):
    def _read(self, n: int, initial: bool = False, _errnos: tuple[int, ...] = (errno.EAGAIN, errno.EINTR)) -> bytes:
        recv = self._quick_recv
        rbuf = self._read_buffer
        try:
            while len(rbuf) < n:
                try:
                    chunk = recv(max(n - len(rbuf), CHUNK))
                except OSError as exc:
                    if exc.errno in _errnos:
                        if initial and self.raise_on_initial_eintr:
                            raise TimeoutError() from exc
                        continue
                    raise
                if not chunk:
                    raise OSError("Server unexpectedly closed connection")
                rbuf += chunk
        except BaseException:
            self._read_buffer = rbuf
            raise
        result, self._read_buffer = rbuf[:n], rbuf[n:]
        return result


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

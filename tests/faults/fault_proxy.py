"""A TCP proxy that can swallow what a client sends: the way to kill a consumer after its commit and
before its ack reaches the broker (the ack is held here, so the kill always lands in that window)."""

from __future__ import annotations

import socket
import threading
from contextlib import suppress


class HoldingProxy:
    def __init__(self, upstream_port: int) -> None:
        self.upstream = ("127.0.0.1", upstream_port)
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.holding = threading.Event()
        self.swallowed = 0
        self.connections: list[tuple[socket.socket, socket.socket]] = []
        self.lock = threading.Lock()
        threading.Thread(target=self._accept, daemon=True, name="proxy-accept").start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            upstream = socket.create_connection(self.upstream)
            with self.lock:
                self.connections.append((client, upstream))
            threading.Thread(target=self._pump, args=(client, upstream, True), daemon=True).start()
            threading.Thread(target=self._pump, args=(upstream, client, False), daemon=True).start()

    def _pump(self, source: socket.socket, target: socket.socket, from_client: bool) -> None:
        with suppress(OSError):
            while data := source.recv(65536):
                if from_client and self.holding.is_set():
                    self.swallowed += len(data)  # never reaches the broker: acks included
                    continue
                target.sendall(data)
        for end in (source, target):
            with suppress(OSError):
                end.close()

    def hold(self) -> None:
        """From now on the broker hears nothing from the clients (they still hear the broker)."""
        self.holding.set()

    def close(self) -> None:
        self.listener.close()
        with self.lock:
            for pair in self.connections:
                for end in pair:
                    with suppress(OSError):
                        end.shutdown(socket.SHUT_RDWR)
                    with suppress(OSError):
                        end.close()
            self.connections.clear()

    @property
    def connected(self) -> int:
        with self.lock:
            return len(self.connections)

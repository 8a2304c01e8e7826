"""The chunked py-amqp transport reads whole frames whatever the socket hands over, and keeps what
it has read when a read times out in the middle of a frame."""

import struct

import pytest

from quxiang.common.bus.amqp_socket import ChunkedTCPTransport


def frame(kind: int, channel: int, payload: bytes) -> bytes:
    return struct.pack(">BHI", kind, channel, len(payload)) + payload + b"\xce"


class Socket:
    """Hands out the scripted pieces; a TimeoutError piece simulates a read timeout."""

    def __init__(self, pieces):
        self.pieces = list(pieces)
        self.asked: list[int] = []

    def recv(self, n):
        self.asked.append(n)
        piece = self.pieces.pop(0)
        if isinstance(piece, BaseException):
            raise piece
        return piece


def transport(sock: Socket) -> ChunkedTCPTransport:
    t = ChunkedTCPTransport("127.0.0.1:5672")
    t._quick_recv = sock.recv
    t._read_buffer = b""
    return t


def test_many_frames_in_one_read_cost_one_call():
    data = b"".join(frame(1, 1, f"message {i}".encode()) for i in range(50))
    sock = Socket([data])
    t = transport(sock)
    frames = [t.read_frame() for _ in range(50)]
    assert frames[7] == (1, 1, b"message 7")
    assert len(sock.asked) == 1 and sock.asked[0] >= 65536


def test_frames_split_across_reads_and_a_timeout_mid_frame():
    data = frame(3, 2, b"x" * 100) + frame(1, 2, b"tail")
    pieces = [data[i:i + 13] for i in range(0, len(data), 13)]
    sock = Socket([*pieces[:4], TimeoutError(), *pieces[4:]])
    t = transport(sock)
    with pytest.raises(TimeoutError):
        t.read_frame()
    assert t.read_frame() == (3, 2, b"x" * 100)  # nothing read before the timeout was lost
    assert t.read_frame() == (1, 2, b"tail")


def test_a_closed_connection_is_an_error():
    t = transport(Socket([b""]))
    with pytest.raises(OSError, match="closed"):
        t.read_frame()


class TimeoutTrackingSocket(Socket):
    def __init__(self, pieces):
        super().__init__(pieces)
        self.timeouts: list[float | None] = []
        self.sent: list[bytes] = []
        self.timeout = None

    def gettimeout(self):
        return self.timeout

    def settimeout(self, value):
        self.timeouts.append(value)
        self.timeout = value

    def sendall(self, data):
        self.sent.append(bytes(data))


def test_buffered_frames_are_read_without_touching_the_socket_timeout():
    data = b"".join(frame(1, 1, b"m") for _ in range(3))
    sock = TimeoutTrackingSocket([data])
    t = transport(sock)
    t.sock = sock
    with t.having_timeout(0):  # nothing buffered yet: the timeout is set and restored
        t.read_frame()
    assert sock.timeouts == [0, None]
    for _ in range(2):
        with t.having_timeout(0):
            t.read_frame()
    assert sock.timeouts == [0, None], "whole frames in the buffer need no socket"


def test_corked_writes_go_out_in_one_call():
    sock = TimeoutTrackingSocket([])
    t = transport(sock)
    t.sock = sock
    t._write = sock.sendall
    reused = bytearray(b"a")
    with t.corked():
        t.write(memoryview(reused))
        reused[0] = ord("X")  # py-amqp reuses its frame buffer: what was written must not change
        t.write(b"bc")
        assert sock.sent == []
    t.write(b"d")
    assert sock.sent == [b"abc", b"d"]


def py_amqp_frames(channel_id: int, frame_max: int, exchange: str, routing_key: str, message) -> bytes:
    """What py-amqp's own frame writer sends for basic.publish."""
    from amqp import spec
    from amqp.method_framing import frame_writer
    from amqp.serialization import dumps

    class Connection:
        bytes_sent = 0

    connection = Connection()
    connection.frame_max = frame_max
    written: list[bytes] = []

    class Transport:
        def write(self, data):
            written.append(bytes(data))

    write = frame_writer(connection, Transport())
    write(1, channel_id, spec.Basic.Publish, dumps("Bssbb", (0, exchange, routing_key, False, False)), message)
    return b"".join(written)


@pytest.mark.parametrize(("body", "headers", "message_id"), [
    (b'{"a": 1}', {}, "0b6c7a8e-1111-4222-8333-944455556666"),
    (b"", {}, "empty"),
    ("去向 ".encode() * 3000, {"x-qx-attempt": 2, "x-qx-error": "boom: 去向", "x-qx-routing-key": "a.b.c"}, "big"),
    (b"x" * (4096 - 8), None, None),  # exactly one frame's worth of body
    (b"y" * (4096 * 3 + 5), {"nested": {"k": [1, "two"]}}, "several body frames"),
])
def test_publish_frames_are_what_py_amqp_would_send(body, headers, message_id):
    import amqp

    from quxiang.common.bus.amqp_socket import PublishFrames

    properties = {"delivery_mode": 2, "content_type": "application/json", "message_id": message_id}
    if headers is not None:
        properties["application_headers"] = headers
    expected = py_amqp_frames(3, 4096, "qx.events", "signing.agreement.approved", amqp.Message(body, **properties))
    frames = PublishFrames(3, 4096)
    for _ in range(2):  # the second time from the cached method frame
        got = b"".join(frames.encode("qx.events", "signing.agreement.approved", body, content_type="application/json",
                                     headers=headers, delivery_mode=2, message_id=message_id))
        assert got == expected


def test_a_buffered_frame_is_cut_out_without_reading_the_socket():
    data = frame(1, 1, b"first") + frame(3, 1, b"second")[:-3]
    sock = Socket([data, frame(3, 1, b"second")[-3:]])
    t = transport(sock)
    assert t.buffered_frame() is None  # nothing read yet
    assert t.read_frame() == (1, 1, b"first")
    assert len(sock.asked) == 1
    assert t.buffered_frame() is None  # the second frame is not whole yet
    assert t.read_frame() == (3, 1, b"second")
    assert t.buffered_frame() is None


def test_a_frame_with_a_bad_end_marker_is_refused():
    from amqp.exceptions import UnexpectedFrame

    t = transport(Socket([frame(1, 1, b"abc")[:-1] + b"\x00" + frame(1, 1, b"next")]))
    with pytest.raises(UnexpectedFrame):
        t.read_frame()


def _deliveries_through(handler_factory, frames, auto_decode=True):
    """Feed frames to a frame handler on an unconnected connection; what the consumer callback got."""
    import amqp

    from quxiang.common.bus.amqp_socket import ChunkedConnection

    connection = ChunkedConnection("127.0.0.1:5672")
    channel = amqp.Channel(connection, 1, auto_decode=auto_decode)
    got = []
    channel.callbacks["ctag"] = lambda m: got.append(
        (m.body, m.properties, m.delivery_info, m.channel is channel))
    handler = handler_factory(connection, connection.on_inbound_method)
    ready = [handler(frame) for frame in frames]
    return got, ready, connection.bytes_recv


def _delivery_frames(body, properties, tag, channel=1, frame_max=64, redelivered=False):
    import amqp
    from amqp.serialization import dumps

    args = struct.pack(">HH", 60, 60) + dumps("sLbss", ("ctag", tag, redelivered, "qx.events", "a.b.c"))
    header = struct.pack(">HHQ", 60, 0, len(body)) + amqp.Message(body, **properties)._serialize_properties()
    frames = [(1, channel, args), (2, channel, header)]
    frames += [(3, channel, body[i:i + frame_max]) for i in range(0, len(body), frame_max)]
    return frames


def test_the_deliver_shortcut_hands_over_what_py_amqps_own_path_does():
    from amqp.method_framing import frame_handler

    from quxiang.common.bus.amqp_socket import deliver_frame_handler

    props = {"delivery_mode": 2, "content_type": "application/json", "message_id": "m-1",
             "application_headers": {"x-qx-attempt": 1, "x-qx-error": "去向"}}
    frames = [
        *_delivery_frames(b'{"n": 1}', props, 1),
        (8, 0, b""),  # a heartbeat between two deliveries
        *_delivery_frames("去向".encode() * 100, {"message_id": "m-2"}, 2, redelivered=True),  # several body frames
        *_delivery_frames(b"", {}, 3),  # no body at all
        *_delivery_frames(b"encoded", {"content_encoding": "utf-8"}, 4),  # py-amqp decodes this one itself
    ]
    expected = _deliveries_through(frame_handler, frames)
    got = _deliveries_through(deliver_frame_handler, frames)
    assert got == expected
    assert [d[0] for d in got[0]] == [b'{"n": 1}', "去向".encode() * 100, "", "encoded"]  # py-amqp: "" without a body
    assert [d[2]["redelivered"] for d in got[0]] == [False, True, False, False]


def test_the_deliver_shortcut_refuses_frames_out_of_order():
    from amqp.exceptions import UnexpectedFrame

    from quxiang.common.bus.amqp_socket import deliver_frame_handler

    method, header, body = _delivery_frames(b"abc", {}, 1)
    with pytest.raises(UnexpectedFrame):
        _deliveries_through(deliver_frame_handler, [method, body])
    with pytest.raises(UnexpectedFrame):
        _deliveries_through(deliver_frame_handler, [method, header, method])

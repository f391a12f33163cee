"""The CRI's streaming calls, Exec and Attach, as the kubelet's clients speak them: the RPC
returns a URL on containerd's streaming server, which is then opened as a WebSocket with the
`v4.channel.k8s.io` subprotocol (what `kubectl exec` and the API server's proxy use besides
SPDY). Each binary message starts with its channel: 0 stdin, 1 stdout, 2 stderr, 3 the final
status (a JSON metav1.Status), 4 terminal resize (JSON {"Width","Height"}). A small client on
the standard library: the handshake of RFC 6455 and its frames (client frames masked)."""
import base64
import hashlib
import json
import os
import socket
import struct
import time
import urllib.parse

STDIN, STDOUT, STDERR, ERROR, RESIZE = range(5)
PROTOCOL = "v4.channel.k8s.io"


class WebSocket:
    def __init__(self, url, protocol=PROTOCOL, timeout=120):
        u = urllib.parse.urlsplit(url)
        self.sock = socket.create_connection((u.hostname, u.port or 80), timeout=timeout)
        key = base64.b64encode(os.urandom(16)).decode()
        path = u.path + (f"?{u.query}" if u.query else "")
        self.sock.sendall((f"GET {path} HTTP/1.1\r\nHost: {u.netloc}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                           f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n"
                           f"Sec-WebSocket-Protocol: {protocol}\r\n\r\n").encode())
        head = b""
        while b"\r\n\r\n" not in head:
            chunk = self.sock.recv(1)
            if not chunk:
                raise ConnectionError(f"handshake: connection closed after {head!r}")
            head += chunk
        lines = head.decode(errors="replace").split("\r\n")
        headers = {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:] if line)}
        if " 101 " not in lines[0] + " ":
            raise ConnectionError(f"handshake: {lines[0]}")
        accept = base64.b64encode(hashlib.sha1((key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11").encode()).digest()).decode()
        if headers.get("sec-websocket-accept") != accept:
            raise ConnectionError("handshake: wrong Sec-WebSocket-Accept")
        self.protocol = headers.get("sec-websocket-protocol", "")
        self.buffer = b""

    def _read(self, n):
        while len(self.buffer) < n:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise EOFError
            self.buffer += chunk
        data, self.buffer = self.buffer[:n], self.buffer[n:]
        return data

    def send(self, channel, data, opcode=2):
        payload = bytes([channel]) + data
        mask = os.urandom(4)
        n = len(payload)
        head = bytes([0x80 | opcode])
        if n < 126:
            head += bytes([0x80 | n])
        elif n < 1 << 16:
            head += bytes([0x80 | 126]) + struct.pack(">H", n)
        else:
            head += bytes([0x80 | 127]) + struct.pack(">Q", n)
        self.sock.sendall(head + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload)))

    def receive(self):
        """The next data message as (channel, bytes); None once the server closes."""
        while True:
            try:
                b0, b1 = self._read(2)
            except EOFError:
                return None
            n = b1 & 0x7F
            if n == 126:
                n = struct.unpack(">H", self._read(2))[0]
            elif n == 127:
                n = struct.unpack(">Q", self._read(8))[0]
            mask = self._read(4) if b1 & 0x80 else None
            data = self._read(n)
            if mask:
                data = bytes(b ^ mask[i % 4] for i, b in enumerate(data))
            opcode = b0 & 0x0F
            if opcode == 8:
                return None
            if opcode == 9:
                self.sock.sendall(bytes([0x8A, 0x80 | len(data)]) + b"\0\0\0\0" + data)
            elif opcode in (1, 2) and data:
                return data[0], data[1:]

    def close(self):
        try:
            self.sock.sendall(bytes([0x88, 0x80]) + b"\0\0\0\0")
        except OSError:
            pass
        self.sock.close()


def session(url, until, send=(), deadline=120):
    """Opens URL and collects output until the server closes, the status arrives, or UNTIL(stdout)
    holds once everything is sent. Each (WHEN, CHANNEL, BYTES) of SEND goes out, in order, as
    soon as WHEN(stdout so far) holds (the server's first, empty message counts as output).
    Returns (stdout, stderr, status): STATUS is the decoded JSON of the error channel, or None."""
    ws = WebSocket(url)
    out, err, status = b"", b"", None
    end = time.monotonic() + deadline
    pending = list(send)
    try:
        while time.monotonic() < end:
            message = ws.receive()
            if message is None:
                break
            channel, data = message
            if channel == STDOUT:
                out += data
            elif channel == STDERR:
                err += data
            elif channel == ERROR and data:
                status = json.loads(data)
            # Send the next input once the output so far asks for it (a prompt, a marker).
            while pending and pending[0][0](out):
                _, ch, payload = pending.pop(0)
                ws.send(ch, payload)
            if status is not None or (not pending and until(out)):
                break
    finally:
        ws.close()
    return out, err, status


def exit_code(status):
    """The exit code a v4 status carries: 0 for Success, the ExitCode cause's for a failure."""
    if not status:
        return None
    if status.get("status") == "Success":
        return 0
    for cause in status.get("details", {}).get("causes", []):
        if cause.get("reason") == "ExitCode":
            return int(cause["message"])
    return status.get("message")

"""Real local servers for the delivery tests: an SMTP server (aiosmtpd) and a scripted webhook endpoint."""

from __future__ import annotations

import contextlib
import email
import email.policy
import http.server
import json
import socket
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from email.message import EmailMessage
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session


class _Collect:
    """aiosmtpd handler keeping every message accepted; recipients in `refused` are answered with their reply."""

    def __init__(
        self,
        inbox: list[EmailMessage],
        lock: threading.Lock,
        refused: dict[str, str],
        on_message: list[Callable[[int], None]],
    ) -> None:
        self.inbox = inbox
        self.lock = lock
        self.refused = refused
        self.on_message = on_message

    async def handle_RCPT(
        self, _server: SMTP, _session: Session, envelope: Envelope, address: str, _options: list[str]
    ) -> str:
        reply = self.refused.get(address.lower())
        if reply is not None:
            return reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, _server: SMTP, _session: Session, envelope: Envelope) -> str:
        content = envelope.original_content or b""
        message = email.message_from_bytes(content, policy=email.policy.default)
        with self.lock:
            self.inbox.append(message)  # type: ignore[arg-type]
            count = len(self.inbox)
        # Kept before the sender hears "250": a hook may kill the sender in between, as a crash would.
        for hook in self.on_message:
            hook(count)
        return "250 Message accepted for delivery"


class MailServer:
    """An SMTP server on 127.0.0.1 that can be stopped and started again on the same port."""

    def __init__(self, port: int, **options: Any) -> None:
        self.port = port
        # aiosmtpd's SMTP options: tls_context, require_starttls, authenticator, auth_required.
        self.options = options
        self.inbox: list[EmailMessage] = []
        # Recipient address -> the SMTP reply refusing it, e.g. "550 5.1.1 No such user".
        self.refused: dict[str, str] = {}
        # Called with the number of messages kept so far, after each is kept and before it is acknowledged.
        self.on_message: list[Callable[[int], None]] = []
        self._lock = threading.Lock()
        self._controller: Controller | None = None

    def start(self) -> None:
        self._controller = Controller(
            _Collect(self.inbox, self._lock, self.refused, self.on_message),
            hostname="127.0.0.1",
            port=self.port,
            **self.options,
        )
        self._controller.start()

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    @property
    def running(self) -> bool:
        return self._controller is not None

    def messages(self) -> list[EmailMessage]:
        with self._lock:
            return list(self.inbox)

    def alert_keys(self) -> list[str]:
        """The X-Preservation-Alert key of every message, in arrival order."""
        return [str(message["X-Preservation-Alert"]) for message in self.messages()]


@dataclass
class WebhookServer:
    """Answers each POST with the next scripted (status, headers), then 200; keeps what it was sent."""

    script: deque[tuple[int, dict[str, str]]] = field(default_factory=deque)
    received: list[dict[str, Any]] = field(default_factory=list)

    def __post_init__(self) -> None:
        owner = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                body = json.loads(self.rfile.read(length) or b"{}")
                status, headers = owner.script.popleft() if owner.script else (200, {})
                owner.received.append({"status": status, "body": body, "headers": dict(self.headers)})
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *_args: Any) -> None:
                return

        self._server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}/hooks/alerts"

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()


class TcpProxy:
    """Forwards a local port to PostgreSQL; `cut()` drops every connection and refuses new ones."""

    def __init__(self, upstream: tuple[str, int]) -> None:
        self.upstream = upstream
        probe = socket.socket()
        probe.bind(("127.0.0.1", 0))
        self.port = int(probe.getsockname()[1])
        probe.close()
        self._listener: socket.socket | None = None
        self._connections: list[socket.socket] = []
        self._lock = threading.Lock()
        self.restore()

    def restore(self) -> None:
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(16)
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _address = listener.accept()
            except OSError:
                return
            server = socket.create_connection(self.upstream)
            with self._lock:
                self._connections += [client, server]
            threading.Thread(target=self._pipe, args=(client, server), daemon=True).start()
            threading.Thread(target=self._pipe, args=(server, client), daemon=True).start()

    @staticmethod
    def _pipe(source: socket.socket, target: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                target.sendall(data)
        except OSError:
            pass
        finally:
            for end in (source, target):
                with contextlib.suppress(OSError):
                    end.shutdown(socket.SHUT_RDWR)

    def cut(self) -> None:
        if self._listener is not None:
            # shutdown() wakes the thread blocked in accept(); close() alone would not on Linux.
            with contextlib.suppress(OSError):
                self._listener.shutdown(socket.SHUT_RDWR)
            self._listener.close()
            self._listener = None
        with self._lock:
            connections, self._connections = self._connections, []
        for connection in connections:
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)
            connection.close()

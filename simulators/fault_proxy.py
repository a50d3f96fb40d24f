"""A loopback TCP proxy in front of PostgreSQL that misbehaves on command.

The factory promises that a database outage never costs a DAG. Proving that needs outages on
demand, against a real server: this proxy listens on 127.0.0.1 and forwards to the server's Unix
socket (or a loopback host and port), and its mode can be switched while connections are open:

``pass``          forward both ways
``refuse``        stop listening (connects are refused) and drop open connections: "database down"
``drop``          accept, then close at once: a server that hangs up before the handshake
``delay(s)``      wait ``s`` seconds before forwarding each chunk: a slow network
``stall``         accept and keep connections open, but forward nothing: a hung server or middlebox
``cut_after(n)``  forward ``n`` server-to-client bytes per connection, then close both sides:
                  the connection is cut in the middle of a read
``stall_after(n)`` forward ``n`` server-to-client bytes per connection, then hold the rest: a server
                  or middlebox that hangs in the middle of a reply

Only loopback addresses are ever used, on either side. Threads are daemons, bounded by
``max_connections``, and all stopped by :meth:`FaultProxy.stop` (or leaving the ``with`` block).
"""

from __future__ import annotations

import contextlib
import ipaddress
import logging
import select
import socket
import threading
from dataclasses import dataclass, field

log = logging.getLogger("yellow.fault_proxy")

Target = str | tuple[str, int]
MODES = ("pass", "refuse", "drop", "delay", "stall", "cut_after", "stall_after")
_POLL_S = 0.05
_CHUNK = 65536


def _require_loopback(host: str) -> None:
    try:
        loopback = ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = host == "localhost"
    if not loopback:
        raise ValueError(f"{host!r} is not a loopback address; the fault proxy only ever uses loopback")


@dataclass
class ProxyStats:
    """Counters since the proxy started; read them to check a fault really happened."""

    accepted: int = 0
    dropped: int = 0
    rejected: int = 0  # over max_connections
    cut: int = 0
    stalled: int = 0
    upstream_failures: int = 0
    bytes_up: int = 0
    bytes_down: int = 0
    active: int = 0


@dataclass(eq=False)
class _Connection:
    client: socket.socket
    upstream: socket.socket
    down: int = 0  # server-to-client bytes forwarded
    closed: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def close(self) -> None:
        with self.lock:
            if self.closed.is_set():
                return
            self.closed.set()
        for sock in (self.client, self.upstream):
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()


class FaultProxy:
    """Forward 127.0.0.1:``port`` to ``target`` (a Unix socket path, or a loopback (host, port))."""

    def __init__(self, target: Target, *, host: str = "127.0.0.1", port: int = 0, max_connections: int = 64):
        _require_loopback(host)
        if not isinstance(target, str):
            _require_loopback(target[0])
        self.target = target
        self.host = host
        self.max_connections = max_connections
        self.stats = ProxyStats()
        self._port = port
        self._mode: tuple[str, float] = ("pass", 0.0)
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._listener: socket.socket | None = None
        self._accept_thread: threading.Thread | None = None
        self._connections: set[_Connection] = set()
        self._threads: set[threading.Thread] = set()

    # ---- lifecycle --------------------------------------------------------------------------

    def start(self) -> FaultProxy:
        self._stopping.clear()
        self._listen()
        return self

    def stop(self) -> None:
        """Stop listening, close every connection and join the threads (bounded wait)."""
        self._stopping.set()
        self._unlisten()
        self._close_all()
        with self._lock:
            threads = list(self._threads)
        for thread in threads:
            thread.join(timeout=2)

    def __enter__(self) -> FaultProxy:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        return self._port

    @property
    def mode(self) -> str:
        name, arg = self._mode
        return f"{name}({arg:g})" if name in ("delay", "cut_after", "stall_after") else name

    def url(self, database: str = "postgres", user: str = "postgres") -> str:
        """A psycopg2 URL that reaches ``database`` through the proxy."""
        return f"postgresql+psycopg2://{user}@{self.host}:{self.port}/{database}"

    # ---- modes ------------------------------------------------------------------------------

    def set_mode(self, mode: str, arg: float = 0.0) -> None:
        if mode not in MODES:
            raise ValueError(f"unknown mode {mode!r}; use one of {', '.join(MODES)}")
        if mode in ("delay", "cut_after", "stall_after") and arg < 0:
            raise ValueError(f"{mode} needs a non-negative argument")
        previous = self._mode[0]
        self._mode = (mode, float(arg))
        log.info("fault proxy :%s -> %s", self._port, self.mode)
        if mode == "refuse":
            self._unlisten()
            self._close_all()
        elif previous == "refuse" and not self._stopping.is_set():
            self._listen()

    def pass_through(self) -> None:
        self.set_mode("pass")

    def refuse(self) -> None:
        self.set_mode("refuse")

    def drop(self) -> None:
        self.set_mode("drop")

    def delay(self, seconds: float) -> None:
        self.set_mode("delay", seconds)

    def stall(self) -> None:
        self.set_mode("stall")

    def cut_after(self, nbytes: int) -> None:
        self.set_mode("cut_after", nbytes)

    def stall_after(self, nbytes: int) -> None:
        self.set_mode("stall_after", nbytes)

    # ---- listening --------------------------------------------------------------------------

    def _listen(self) -> None:
        with self._lock:
            if self._listener is not None:
                return
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                sock.bind((self.host, self._port))
            except OSError:
                sock.close()
                raise
            sock.listen(64)
            sock.settimeout(_POLL_S)
            self._port = sock.getsockname()[1]
            self._listener = sock
            thread = threading.Thread(
                target=self._accept_loop, args=(sock,), name=f"fault-proxy-accept-{self._port}", daemon=True
            )
            self._accept_thread = thread
            self._threads.add(thread)
        thread.start()

    def _unlisten(self) -> None:
        with self._lock:
            sock, self._listener = self._listener, None
            thread, self._accept_thread = self._accept_thread, None
        if sock is not None:
            sock.close()
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout=2)

    def _close_all(self) -> None:
        with self._lock:
            connections = list(self._connections)
        for conn in connections:
            conn.close()

    def _accept_loop(self, listener: socket.socket) -> None:
        try:
            while not self._stopping.is_set() and self._listener is listener:
                try:
                    client, _ = listener.accept()
                except TimeoutError:
                    continue
                except OSError:
                    return  # listener closed
                self._accepted(client)
        finally:
            with self._lock:
                self._threads.discard(threading.current_thread())

    def _accepted(self, client: socket.socket) -> None:
        mode = self._mode[0]
        with self._lock:
            self.stats.accepted += 1
            too_many = len(self._connections) >= self.max_connections
            if too_many:
                self.stats.rejected += 1
            elif mode == "drop":
                self.stats.dropped += 1
        if too_many or mode == "drop":
            client.close()
            return
        try:
            upstream = self._connect_upstream()
        except OSError as exc:
            log.info("fault proxy: upstream %s unreachable: %s", self.target, exc)
            with self._lock:
                self.stats.upstream_failures += 1
            client.close()
            return
        conn = _Connection(client, upstream)
        with self._lock:
            self._connections.add(conn)
            self.stats.active = len(self._connections)
        for src, dst, down in ((client, upstream, False), (upstream, client, True)):
            thread = threading.Thread(
                target=self._pump,
                args=(conn, src, dst, down),
                daemon=True,
                name=f"fault-proxy-{'down' if down else 'up'}-{self._port}",
            )
            with self._lock:
                self._threads.add(thread)
            thread.start()

    def _connect_upstream(self) -> socket.socket:
        if isinstance(self.target, str):
            sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            sock.settimeout(5)
            try:
                sock.connect(self.target)
            except OSError:
                sock.close()
                raise
        else:
            sock = socket.create_connection(self.target, timeout=5)
        sock.settimeout(None)
        return sock

    # ---- forwarding -------------------------------------------------------------------------

    def _pump(self, conn: _Connection, src: socket.socket, dst: socket.socket, down: bool) -> None:
        """Move bytes ``src`` -> ``dst`` under the current mode until either side closes."""
        try:
            while not conn.closed.is_set() and not self._stopping.is_set():
                mode, arg = self._mode
                if mode == "stall":
                    if self._peer_closed(src):
                        break
                    conn.closed.wait(_POLL_S)
                    continue
                readable, _, _ = select.select([src], [], [], _POLL_S)
                if not readable:
                    continue
                data = src.recv(_CHUNK)
                if not data:
                    break
                mode, arg = self._mode
                if mode == "stall":  # switched while we were reading: hold the chunk until it ends
                    if not self._hold(conn, "stall"):
                        break
                    mode, arg = self._mode
                if mode == "delay" and arg > 0 and conn.closed.wait(arg):
                    break
                budget = max(0, int(arg) - conn.down)  # server-to-client bytes left before the fault
                if down and mode in ("cut_after", "stall_after") and len(data) > budget:
                    if budget:
                        self._send(conn, dst, data[:budget], down)
                        data = data[budget:]
                    with self._lock:
                        if mode == "cut_after":
                            self.stats.cut += 1
                        else:
                            self.stats.stalled += 1
                    if mode == "cut_after" or not self._hold(conn, "stall_after"):
                        break
                self._send(conn, dst, data, down)
        except OSError:
            pass
        finally:
            conn.close()
            with self._lock:
                self._connections.discard(conn)
                self.stats.active = len(self._connections)
                self._threads.discard(threading.current_thread())

    def _send(self, conn: _Connection, dst: socket.socket, data: bytes, down: bool) -> None:
        dst.sendall(data)
        with self._lock:
            if down:
                conn.down += len(data)
                self.stats.bytes_down += len(data)
            else:
                self.stats.bytes_up += len(data)

    def _hold(self, conn: _Connection, mode: str) -> bool:
        """Wait while ``mode`` lasts; False if the connection or the proxy closed meanwhile."""
        while self._mode[0] == mode and not conn.closed.is_set() and not self._stopping.is_set():
            conn.closed.wait(_POLL_S)
        return not conn.closed.is_set() and not self._stopping.is_set()

    @staticmethod
    def _peer_closed(sock: socket.socket) -> bool:
        """True when ``sock``'s peer hung up, without consuming any data it sent."""
        try:
            readable, _, _ = select.select([sock], [], [], 0)
            return bool(readable) and sock.recv(1, socket.MSG_PEEK) == b""
        except OSError:
            return True


def start_proxy(target: Target, **kwargs: object) -> FaultProxy:
    """Start a proxy on a free loopback port (remember to :meth:`FaultProxy.stop` it)."""
    return FaultProxy(target, **kwargs).start()  # type: ignore[arg-type]

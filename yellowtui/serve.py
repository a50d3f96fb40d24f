"""The dashboard in a browser: textual-serve's server, behind a per-run access token.

textual-serve (``textual_serve.server.Server``) serves a page whose script opens a websocket at
``/ws``; each websocket starts its own process running ``command`` through the shell
(``textual_serve.app_service.AppService``, with ``TEXTUAL_DRIVER`` set to Textual's web driver)
and sends it ``quit`` when the socket closes. What this module adds:

- every request must carry the run's token: ``?token=`` on the first page (which then sets it as
  an HttpOnly, SameSite=Strict cookie and redirects to a URL without it), the cookie after that.
  Without it the answer is 401 and nothing starts; the token is compared in constant time;
- the websocket must come from the page's own origin (no other site's page can drive it);
- at most ``max_sessions`` dashboards at once; a closed tab's process is waited for and, if it
  does not quit within a few seconds, killed;
- no access log: the first request's URL holds the token.
"""

from __future__ import annotations

import asyncio
import hmac
import logging
import secrets
import socket
from typing import Any
from urllib.parse import urlencode

from aiohttp import web
from textual_serve.app_service import AppService
from textual_serve.server import Server

log = logging.getLogger("yellowtui.serve")

COOKIE = "yellowtui_token"
QUIT_GRACE_S = 5.0
UNAUTHORIZED = (
    "401 Unauthorized: this yellowtui serve needs the URL with its access token, as printed when it started.\n"
)


def new_token() -> str:
    """A random access token for one run (256 bits, URL-safe)."""
    return secrets.token_urlsafe(32)


class _Session(AppService):
    """One browser tab's dashboard process: on stop, quit politely, then make sure it is gone."""

    async def stop(self) -> None:
        await super().stop()
        process = self._process
        if process is not None and process.returncode is None:
            try:
                await asyncio.wait_for(process.wait(), QUIT_GRACE_S)
            except TimeoutError:
                process.kill()
                await process.wait()


class GuardedServer(Server):
    """textual-serve's server with the token, origin and session guards of the module doc."""

    def __init__(
        self, command: str, sock: socket.socket, token: str, *, title: str, max_sessions: int = 8, **kwargs: Any
    ) -> None:
        host, port = sock.getsockname()[:2]
        shown = socket.gethostname() if host in ("0.0.0.0", "::") else host
        super().__init__(command, host=host, port=port, title=title, public_url=f"http://{shown}:{port}", **kwargs)
        self.sock = sock
        self._token = token
        self.max_sessions = max_sessions
        self.sessions = 0

    @property
    def url(self) -> str:
        """The URL to open: the only place the token is ever shown."""
        return f"{self.public_url}/?{urlencode({'token': self._token})}"

    def _authorized(self, request: web.Request) -> bool:
        given = request.query.get("token") or request.cookies.get(COOKIE) or ""
        return hmac.compare_digest(given.encode(), self._token.encode())

    @web.middleware
    async def guard(self, request: web.Request, handler: Any) -> web.StreamResponse:
        if not self._authorized(request):
            return web.Response(status=401, text=UNAUTHORIZED, headers={"Cache-Control": "no-store"})
        if "token" in request.query:  # into a cookie, out of the address bar
            rest = {k: v for k, v in request.query.items() if k != "token"}
            response: web.StreamResponse = web.HTTPFound(request.path + (f"?{urlencode(rest)}" if rest else ""))
            response.set_cookie(COOKIE, self._token, httponly=True, samesite="Strict", path="/")
        else:
            response = await handler(request)
        if not response.prepared:
            response.headers.update(
                {"Referrer-Policy": "no-referrer", "X-Frame-Options": "DENY", "Cache-Control": "no-store"}
            )
        return response

    async def _make_app(self) -> web.Application:
        app = await super()._make_app()
        app.middlewares.append(self.guard)
        return app

    async def on_startup(self, app: web.Application) -> None:
        print(f"yellowtui serve: open {self.url}", flush=True)
        print("Each browser tab is its own dashboard; Ctrl+C stops the server.", flush=True)

    async def handle_websocket(self, request: web.Request) -> web.WebSocketResponse:
        """textual-serve's handler with the origin check, the session cap and :class:`_Session`."""
        origin = request.headers.get("Origin", "")
        if origin not in (self.public_url, f"http://{request.host}"):
            raise web.HTTPForbidden(text="403: the websocket must come from the dashboard's own page\n")
        if self.sessions >= self.max_sessions:
            raise web.HTTPServiceUnavailable(text=f"503: {self.max_sessions} dashboards are open already\n")
        websocket = web.WebSocketResponse(heartbeat=15)
        width = _int(request.query.get("width"), 80)
        height = _int(request.query.get("height"), 24)
        session: _Session | None = None

        async def close() -> None:
            await websocket.close()

        self.sessions += 1
        try:
            await websocket.prepare(request)
            session = _Session(
                self.command,
                write_bytes=websocket.send_bytes,
                write_str=websocket.send_str,
                close=close,
                download_manager=self.download_manager,
                debug=self.debug,
            )
            await session.start(width, height)
            await self._process_messages(websocket, session)
        except asyncio.CancelledError:
            await websocket.close()
        except Exception as error:
            log.error("session ended with %s", type(error).__name__)
        finally:
            self.sessions -= 1
            if session is not None:
                await session.stop()
        return websocket

    def run(self) -> None:
        """Serve until Ctrl+C or SIGTERM, on the socket already bound, without an access log."""
        import signal

        self.initialize_logging()
        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, self.request_exit)
        web.run_app(
            self._make_app(), sock=self.sock, handle_signals=False, loop=loop, access_log=None, print=lambda *_: None
        )


def _int(value: str | None, default: int) -> int:
    try:
        return max(10, min(1000, int(value or default)))
    except ValueError:
        return default


def bind(host: str, port: int) -> socket.socket:
    """Bind now, so ``--port 0`` prints the port it got and a taken port fails before anything starts."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(64)
    sock.setblocking(False)
    return sock

"""Bot API calls over aiohttp: python-telegram-bot's networking, on a cheaper client.

python-telegram-bot makes every call through a ``BaseRequest``, the documented
place to choose the HTTP library. Its own, ``HTTPXRequest``, uses httpx, which
spends about four times the CPU of aiohttp on each call (measured against the
stand-in on loopback: 0.47–0.54 ms a call for httpx, 0.12 ms for aiohttp). The
Bot API calls are most of this bot's CPU, so this class is most of the
difference between keeping up with Telegram's 30 messages a second on one core
and not. aiohttp is already a dependency (the stand-in serves with it). Only the
transport changes: python-telegram-bot still builds every request, reads every
answer and raises its own errors. ``HTTP_CLIENT=httpx`` goes back to
python-telegram-bot's own.
"""

from __future__ import annotations

import json
import urllib.request
from typing import cast

import aiohttp
from telegram.error import NetworkError, TimedOut
from telegram.request import BaseRequest, RequestData

_JSON = {"Content-Type": "application/json"}


def _given(value: object, default: float | None) -> float | None:
    """A timeout the caller gave, or ours when they left it to us."""
    if value is BaseRequest.DEFAULT_NONE:
        return default
    return cast(float | None, value)


class AiohttpRequest(BaseRequest):
    """A ``BaseRequest`` on an ``aiohttp.ClientSession``, with the same timeouts
    (and defaults) as python-telegram-bot's ``HTTPXRequest``.

    aiohttp has no timeout for writing a request on its own, so each call is
    also bounded as a whole by the sum of its connect, write and read timeouts.
    """

    def __init__(
        self,
        connection_pool_size: int = 1,
        read_timeout: float | None = 5.0,
        write_timeout: float | None = 5.0,
        connect_timeout: float | None = 5.0,
        pool_timeout: float | None = 1.0,
        media_write_timeout: float | None = 20.0,
    ) -> None:
        self._pool_size = connection_pool_size
        self._read = read_timeout
        self._write = write_timeout
        self._connect = connect_timeout
        self._pool = pool_timeout
        self._media_write = media_write_timeout
        self._session: aiohttp.ClientSession | None = None
        self._proxies: dict[str, str | None] = {}  # "scheme://host" -> its proxy

    @property
    def read_timeout(self) -> float | None:
        return self._read

    async def initialize(self) -> None:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=self._pool_size),
                headers={"User-Agent": self.USER_AGENT},
                # aiohttp's own reading of the environment (trust_env) looks for a
                # proxy and a .netrc in a thread on every call: more than half the
                # cost of a call. The proxy is looked up once per server instead.
                trust_env=False,
            )

    async def shutdown(self) -> None:
        if self._session is not None and not self._session.closed:
            await self._session.close()

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: object = BaseRequest.DEFAULT_NONE,
        write_timeout: object = BaseRequest.DEFAULT_NONE,
        connect_timeout: object = BaseRequest.DEFAULT_NONE,
        pool_timeout: object = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        if self._session is None or self._session.closed:
            raise RuntimeError("This AiohttpRequest is not initialized!")
        files = request_data.multipart_data if request_data else None
        fields = request_data.json_parameters if files and request_data else {}
        read = _given(read_timeout, self._read)
        connect = _given(connect_timeout, self._connect)
        pool = _given(pool_timeout, self._pool)
        write = _given(write_timeout, self._media_write if files else self._write)
        waits = (connect, pool, write, read)
        timeout = aiohttp.ClientTimeout(
            total=None if None in waits else sum(w for w in waits if w is not None),
            # Waiting for a free connection, then making one.
            connect=None if connect is None or pool is None else connect + pool,
            sock_connect=connect,
            sock_read=read,
        )
        body: aiohttp.FormData | bytes | None = None
        headers = None
        if files:
            form = aiohttp.FormData()
            for name, value in fields.items():
                form.add_field(name, value)
            for name, (filename, content, mimetype) in files.items():
                form.add_field(name, content, filename=filename, content_type=mimetype)
            body = form
        elif request_data is not None and request_data.parameters:
            # JSON, which the Bot API takes as well as a form: one dumps, where
            # a form would quote every character of every value.
            body = json.dumps(request_data.parameters, ensure_ascii=False).encode()
            headers = _JSON
        try:
            async with self._session.request(
                method, url, data=body, headers=headers, timeout=timeout, proxy=self._proxy(url)
            ) as response:
                return response.status, await response.read()
        except TimeoutError as exc:
            raise TimedOut from exc
        except aiohttp.ClientError as exc:
            # The class name helps when the message is empty, as it often is.
            raise NetworkError(f"aiohttp.{exc.__class__.__name__}: {exc}") from exc

    def _proxy(self, url: str) -> str | None:
        """The proxy the environment names for this server (HTTPS_PROXY, NO_PROXY
        and the like, as httpx would read them), looked up once."""
        server = "/".join(url.split("/", 3)[:3])
        if server not in self._proxies:
            scheme, _, host = server.partition("://")
            bypass = urllib.request.proxy_bypass(host.rsplit("@", 1)[-1])
            self._proxies[server] = None if bypass else urllib.request.getproxies().get(scheme)
        return self._proxies[server]

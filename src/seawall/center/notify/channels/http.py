"""POST a JSON body to a webhook URL within hard bounds (shared by webhook, Slack, Teams).

A notification target is configured by a user and answered by anything, so: only
``http``/``https`` URLs (checked when the channel is configured), redirects are not
followed, the connection must open within ``connect`` seconds and the whole exchange end
within ``total`` seconds (an ``asyncio`` deadline, which also stops a server that answers
one byte at a time), and at most ``MAX_RESPONSE`` bytes of the answer are read. 2xx is
delivered; 408, 429, 5xx, timeouts and connection errors are retryable; anything else
(other 4xx, 3xx) is not. Runs its own event loop, so call it from a worker thread, not
from inside a running loop.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass

import httpx

from seawall.center.notify.channels.base import DeliveryError, excerpt

MAX_RESPONSE = 64 * 1024
MAX_EXCERPT = 200
USER_AGENT = "Seawall-Notifier"


@dataclass(frozen=True)
class Timeouts:
    """Seconds to connect and for the whole request (injectable for tests)."""

    connect: float = 5.0
    total: float = 15.0


def check_url(url: str) -> str:
    """``url`` if it is an absolute http(s) URL with a host; ValueError naming the problem."""
    try:
        parsed = httpx.URL(url)
    except (httpx.InvalidURL, TypeError) as error:
        raise ValueError(f"invalid URL: {error}") from None
    if parsed.scheme not in ("http", "https"):
        raise ValueError(f"invalid URL {url[:100]!r}: only http and https are allowed")
    if not parsed.host:
        raise ValueError(f"invalid URL {url[:100]!r}: no host")
    return url


def is_http_url(url: str) -> bool:
    """Whether ``url`` passes :func:`check_url` (links in messages are dropped otherwise)."""
    try:
        check_url(url)
    except ValueError:
        return False
    return True


def post_json(url: str, body: bytes, headers: Mapping[str, str], timeouts: Timeouts) -> None:
    """POST ``body`` as JSON; return on 2xx, else raise DeliveryError."""
    try:
        status, answer = asyncio.run(_post(url, body, headers, timeouts))
    except TimeoutError:
        raise DeliveryError(f"timed out after {timeouts.total:g} s", retryable=True) from None
    except httpx.TimeoutException as error:
        raise DeliveryError(f"timed out: {type(error).__name__}", retryable=True) from None
    except httpx.TransportError as error:
        reason = f"connection failed: {type(error).__name__}: {error}"
        raise DeliveryError(reason, retryable=True) from None
    except httpx.HTTPError as error:
        raise DeliveryError(f"{type(error).__name__}: {error}", retryable=False) from None
    if 200 <= status < 300:
        return
    text = excerpt(answer.decode("utf-8", "replace"), MAX_EXCERPT)
    reason = f"HTTP {status}: {text}" if text else f"HTTP {status}"
    raise DeliveryError(reason, retryable=status in (408, 429) or status >= 500)


async def _post(
    url: str, body: bytes, headers: Mapping[str, str], timeouts: Timeouts
) -> tuple[int, bytes]:
    timeout = httpx.Timeout(timeouts.total, connect=timeouts.connect)
    all_headers = {"Content-Type": "application/json", "User-Agent": USER_AGENT, **headers}
    async with asyncio.timeout(timeouts.total):
        async with httpx.AsyncClient(timeout=timeout, follow_redirects=False) as client:
            request = client.build_request("POST", url, content=body, headers=all_headers)
            response = await client.send(request, stream=True)
            try:
                answer = bytearray()
                async for chunk in response.aiter_raw():
                    answer += chunk
                    if len(answer) >= MAX_RESPONSE:
                        break
                return response.status_code, bytes(answer[:MAX_RESPONSE])
            finally:
                await response.aclose()

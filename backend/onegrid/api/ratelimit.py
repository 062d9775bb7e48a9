"""Per-client rate limits of the endpoints that need no account (resident reports, follow
tokens, sign-in), kept in memory.

A token bucket per client address: a client may send `limit` requests at once, then one
more each `window_s / limit` seconds. Buckets that have filled up again carry no
information and are dropped, and at most `max_keys` are kept, so memory stays bounded
whatever addresses arrive.

With several server processes (e.g. `uvicorn --workers 4`) each process keeps its own
buckets, so a client may get up to that many times the limit; an exact limit across
processes would need a shared store (the database or Redis). One process, as
`onegrid serve` runs, is exact.
"""

from __future__ import annotations

import ipaddress
import math
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from onegrid.errors import TooManyRequests
from onegrid.settings import Settings

MAX_KEYS = 20_000  # at most about 5 MB of buckets per limiter (measured)


class RateLimiter:
    """`limit` requests per `window_s` seconds per key; thread-safe."""

    def __init__(
        self,
        limit: int,
        window_s: float,
        *,
        max_keys: int = MAX_KEYS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.limit = limit
        self.window_s = window_s
        self.max_keys = max_keys
        self.clock = clock  # monotonic: a wall clock set back must not refill or drain buckets
        self._refill_per_s = limit / window_s
        # key -> (tokens left, when last seen), least recently seen first.
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()
        self._lock = threading.Lock()

    def hit(self, key: str) -> int | None:
        """Count one request of `key`: None when it may go ahead, else the seconds to wait."""
        with self._lock:
            now = self.clock()
            self._forget_full(now)
            tokens, seen = self._buckets.pop(key, (float(self.limit), now))
            tokens = min(float(self.limit), tokens + (now - seen) * self._refill_per_s)
            wait = None
            if tokens >= 1:
                tokens -= 1
            else:  # a refused request takes nothing, so a client that waits gets through
                wait = max(1, math.ceil((1 - tokens) / self._refill_per_s))
            self._buckets[key] = (tokens, now)  # now the most recently seen
            if len(self._buckets) > self.max_keys:
                self._buckets.popitem(last=False)  # the longest quiet: its reset costs least
            return wait

    def check(self, key: str, what: str) -> None:
        """Count one request, or raise TooManyRequests saying when to try again."""
        wait = self.hit(key)
        if wait is not None:
            raise TooManyRequests(
                f"too many {what} from this address; try again in {wait} s",
                retry_after_s=wait,
            )

    def __len__(self) -> int:
        return len(self._buckets)

    def _forget_full(self, now: float) -> None:
        # Any bucket quiet for a whole window is full again: the same as no bucket at all.
        # The oldest come first, so this stops at the first one still in use.
        while self._buckets:
            key, (_, seen) = next(iter(self._buckets.items()))
            if now - seen < self.window_s:
                break
            del self._buckets[key]


def client_key(
    peer: str | None,
    forwarded_for: str | None,
    trusted_proxies: Iterable[ipaddress.IPv4Network | ipaddress.IPv6Network],
) -> str:
    """The address a limit counts against.

    The direct peer, unless it is one of our trusted reverse proxies: then the last address
    of X-Forwarded-For (the one that proxy saw; earlier ones are whatever the client wrote).
    An IPv6 client counts by its /64, the block one subscriber usually gets whole.
    """
    ip = _ip(peer) if peer else None
    if ip is not None and forwarded_for and any(ip in n for n in trusted_proxies):
        ip = _ip(forwarded_for.split(",")[-1].strip()) or ip
    if ip is None:
        return peer or "unknown"
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.IPv6Network((ip, 64), strict=False))
    return str(ip)


def _ip(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        return None  # e.g. Starlette's test client, whose peer is "testclient"


@dataclass
class ClientLimits:
    """The limiters of one app (kept on app.state, so every app, and every test, has its own)."""

    new_reports: RateLimiter
    token_uses: RateLimiter
    # Account lock-out stops guessing one account's password; this slows one address trying
    # many accounts (password spraying).
    sign_ins: RateLimiter
    trusted_proxies: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]

    @classmethod
    def from_settings(cls, settings: Settings) -> ClientLimits:
        return cls(
            new_reports=RateLimiter(settings.report_rate_per_hour, 3600),
            token_uses=RateLimiter(settings.report_reads_per_minute, 60),
            sign_ins=RateLimiter(settings.sign_ins_per_minute, 60),
            trusted_proxies=tuple(
                ipaddress.ip_network(p, strict=False) for p in settings.report_trusted_proxies
            ),
        )

    def check(self, request: Any, limiter: RateLimiter, what: str) -> None:
        """Count one request of this client against `limiter` (429 when over it)."""
        # Every X-Forwarded-For line, in order: a proxy may add its own line, not append.
        forwarded = ",".join(request.headers.getlist("x-forwarded-for")) or None
        peer = request.client.host if request.client else None
        limiter.check(client_key(peer, forwarded, self.trusted_proxies), what)

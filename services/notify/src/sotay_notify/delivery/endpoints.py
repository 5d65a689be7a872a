"""Push endpoints are URLs clients hand us, which the server then POSTs to: a server-side
request forgery risk. An endpoint must be an ``https`` URL without credentials whose host
resolves only to public unicast addresses (no loopback, private, link-local — cloud metadata
— multicast, reserved or shared ranges; no IPv6 address embedding an IPv4 one for a gateway —
NAT64, 6to4, IPv4-compatible —; IPv4-mapped ones are judged by their IPv4). The check runs
when a subscription is registered and again before every send (DNS may have changed);
redirects are never followed. Known gap: the address checked is not pinned for the request,
so a hostile DNS server could answer differently in between (DNS rebinding; docs/notify.md).

``allowed_origins`` (setting ``push_test_allowed_origins``) exempts exact origins — only for
the local fake push service of the tests; it is empty by default and refused in production.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Sequence
from urllib.parse import urlsplit

MAX_LENGTH = 2048


class UnsafeEndpoint(ValueError):
    """Why an endpoint is refused (Vietnamese, for the problem detail)."""


def origin_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()


# IPv6 ranges that carry an IPv4 address a gateway may forward to (whatever that address is):
# NAT64 (RFC 6052, RFC 8215), 6to4 (RFC 3056) and the deprecated IPv4-compatible addresses.
_TRANSLATED = tuple(
    ipaddress.IPv6Network(n) for n in ("64:ff9b::/96", "64:ff9b:1::/48", "2002::/16", "::/96")
)


def _public(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            ip = ip.ipv4_mapped
        elif any(ip in net for net in _TRANSLATED):
            return False
    return ip.is_global and not ip.is_multicast


async def check(url: str, allowed_origins: Sequence[str] = ()) -> str:
    """The endpoint's origin if it is safe to POST to; :class:`UnsafeEndpoint` otherwise."""
    if len(url) > MAX_LENGTH:
        raise UnsafeEndpoint("Địa chỉ quá dài")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise UnsafeEndpoint("Địa chỉ không hợp lệ") from exc
    origin = origin_of(url)
    if origin in {o.lower().rstrip("/") for o in allowed_origins}:
        return origin
    if parts.scheme != "https":
        raise UnsafeEndpoint("Địa chỉ phải dùng https")
    if parts.username is not None or parts.password is not None:
        raise UnsafeEndpoint("Địa chỉ không được chứa thông tin đăng nhập")
    host = parts.hostname
    if not host:
        raise UnsafeEndpoint("Thiếu tên máy chủ")
    try:
        literal = ipaddress.ip_address(host)
    except ValueError:
        literal = None
    if literal is not None:
        addresses = [str(literal)]
    else:
        try:
            infos = await asyncio.get_running_loop().getaddrinfo(
                host, port or 443, type=socket.SOCK_STREAM
            )
        except (OSError, UnicodeError) as exc:
            raise UnsafeEndpoint("Không phân giải được tên máy chủ") from exc
        addresses = [str(info[4][0]) for info in infos]
        if not addresses:
            raise UnsafeEndpoint("Không phân giải được tên máy chủ")
    if not all(_public(a) for a in addresses):
        raise UnsafeEndpoint("Địa chỉ trỏ tới mạng nội bộ, không được phép")
    return origin

"""The client's address, the same for login lockout, rate limits and the audit log.

Behind PORTAL_PROXY_COUNT trusted reverse proxies, each appending the address it saw to
X-Forwarded-For, the client is the N-th address from the right. Anything further left was written by
the client itself and is never trusted, so a forged header cannot choose the key.
"""

import ipaddress
import logging

from django.conf import settings

logger = logging.getLogger(__name__)

# Set after the first malformed entry is logged: a client can send one with every request, and a flood of
# them must not become a flood of log lines. One line per process is enough to tell the operator.
_malformed_logged = False


def client_ip(request) -> str:
    remote = request.META.get("REMOTE_ADDR", "")
    count = settings.PORTAL_PROXY_COUNT
    if count <= 0:
        return remote
    forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if part.strip()]
    if len(forwarded) < count:
        return remote
    # The rate limiter, the lockout (an inet column on PostgreSQL) and the audit log all need an address that
    # parses: one that does not is treated as absent, as if the proxy had not written it.
    return canonical_address(forwarded[-count]) or remote


def canonical_address(text: str) -> str | None:
    """The address in its canonical form (IPv6 compressed, lower case), or None when `text` is not one."""
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        address = None
    if address is None or getattr(address, "scope_id", None):
        # A zone (fe80::1%eth0) names an interface of the sender's machine: never a client on the internet.
        _log_malformed(text)
        return None
    return str(address)


def _log_malformed(text):
    global _malformed_logged
    if _malformed_logged:
        return
    _malformed_logged = True
    logger.warning(
        "X-Forwarded-For entry %r (PORTAL_PROXY_COUNT=%d) is not an IP address: using REMOTE_ADDR instead. "
        "Check the proxy configuration. Further malformed entries are not logged by this process.",
        text[:100],
        settings.PORTAL_PROXY_COUNT,
    )

"""The client's address, the same for login lockout, rate limits and the audit log.

Behind PORTAL_PROXY_COUNT trusted reverse proxies, each appending the address it saw to
X-Forwarded-For, the client is the N-th address from the right. Anything further left was written by
the client itself and is never trusted, so a forged header cannot choose the key.
"""

from django.conf import settings


def client_ip(request) -> str:
    remote = request.META.get("REMOTE_ADDR", "")
    count = settings.PORTAL_PROXY_COUNT
    if count <= 0:
        return remote
    forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if part.strip()]
    return forwarded[-count] if len(forwarded) >= count else remote

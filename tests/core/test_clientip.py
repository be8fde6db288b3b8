import pytest

from core.clientip import client_ip


@pytest.mark.parametrize(
    ("proxies", "forwarded", "expected"),
    [
        (0, "203.0.113.9", "10.0.0.1"),  # no proxy configured: the header is ignored
        (1, "198.51.100.7", "198.51.100.7"),  # one proxy appended the client
        (1, "6.6.6.6, 198.51.100.7", "198.51.100.7"),  # a forged entry on the left is ignored
        (2, "6.6.6.6, 198.51.100.7, 10.0.0.2", "198.51.100.7"),
        (2, "198.51.100.7", "10.0.0.1"),  # fewer entries than proxies: trust only the socket
    ],
)
def test_client_ip_behind_proxies(rf, settings, proxies, forwarded, expected):
    settings.PORTAL_PROXY_COUNT = proxies
    request = rf.get("/", HTTP_X_FORWARDED_FOR=forwarded, REMOTE_ADDR="10.0.0.1")
    assert client_ip(request) == expected

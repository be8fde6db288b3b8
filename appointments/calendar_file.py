"""The .ics attachment of a booking's emails, written by hand (RFC 5545: CRLF lines, escaped text, UTC times).

One UID per request, with SEQUENCE growing at each move: a calendar that imported the first file updates the
event instead of adding a second one; a cancellation is METHOD:CANCEL with the same UID.
"""

import datetime

from django.conf import settings


def _text(value):
    return (
        str(value)
        .replace("\\", "\\\\")
        .replace(";", "\\;")
        .replace(",", "\\,")
        .replace("\r\n", "\\n")
        .replace("\n", "\\n")
    )


def _utc(moment):
    return moment.astimezone(datetime.UTC).strftime("%Y%m%dT%H%M%SZ")


def _fold(line):
    """Lines of at most 75 octets, continued with a space (RFC 5545 3.1), never cutting a UTF-8 character."""
    out, current = [], b""
    for char in line:
        encoded = char.encode()
        if len(current) + len(encoded) > 75:
            out.append(current.decode())
            current = b" "
        current += encoded
    out.append(current.decode())
    return "\r\n".join(out)


def booking_calendar(*, uid, sequence, starts_at, ends_at, summary, location, description, now, cancel=False):
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "PRODID:-//Xinjiang accounting exam offices//portal//EN",
        "CALSCALE:GREGORIAN",
        f"METHOD:{'CANCEL' if cancel else 'PUBLISH'}",
        "BEGIN:VEVENT",
        f"UID:{uid}",
        f"SEQUENCE:{sequence}",
        f"DTSTAMP:{_utc(now)}",
        f"DTSTART:{_utc(starts_at)}",
        f"DTEND:{_utc(ends_at)}",
        f"SUMMARY:{_text(summary)}",
        f"LOCATION:{_text(location)}",
        f"DESCRIPTION:{_text(description)}",
        f"STATUS:{'CANCELLED' if cancel else 'CONFIRMED'}",
        "END:VEVENT",
        "END:VCALENDAR",
    ]
    return "\r\n".join(_fold(line) for line in lines) + "\r\n"


def uid_for(ticket):
    host = settings.PORTAL_BASE_URL.split("//")[-1].split("/")[0].split(":")[0] or "portal"
    return f"visit-{ticket.reference}@{host}"

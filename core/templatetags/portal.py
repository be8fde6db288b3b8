import datetime
import re

from django import template
from django.utils import timezone
from django.utils.html import escape
from django.utils.safestring import mark_safe

register = template.Library()


@register.filter
def moment(value):
    """A date as 2024-07-02, a moment as 2024-07-02 12:00 in Beijing time."""
    # strftime, not the date filter's dateformat: the same text (digits only, no names of months or days) at a
    # fifth of the cost, and the home page shows seventeen of them.
    if isinstance(value, datetime.datetime):
        return timezone.localtime(value).strftime("%Y-%m-%d %H:%M")
    if isinstance(value, datetime.date):
        return value.strftime("%Y-%m-%d")
    return ""


# An http(s) address: ASCII only, so that it ends where Chinese text goes on without a space (“（http://…）自行”).
URL = re.compile(r"https?://[A-Za-z0-9\-._~:/?#\[\]@!$&*+,;=%]+")
TRAILING = ".,;:!?"


@register.filter(is_safe=True)
def linkify(text):
    """The text escaped, its http(s) addresses as links (Django's urlize needs spaces around an address, which
    Chinese text does not have). Every piece is escaped on its own; nothing the text holds becomes markup."""
    text = str(text or "")
    pieces, last = [], 0
    for match in URL.finditer(text):
        url = match[0].rstrip(TRAILING)
        pieces.append(escape(text[last : match.start()]))
        pieces.append(f'<a href="{escape(url)}" rel="noopener noreferrer">{escape(url)}</a>')
        last = match.start() + len(url)
    pieces.append(escape(text[last:]))
    return mark_safe("".join(pieces))  # noqa: S308 - every piece escaped above

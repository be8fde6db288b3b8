"""Personal data outside the models: document numbers in free text and logs, and caching of staff pages.

Lists, exports and emails mask numbers where they print them (core.id_numbers.mask). Free text is
different: a log line, an exception message, a note or an admin history line may carry a number nobody
chose to print. `mask_text` catches the numbers with a recognisable shape (the 18-character resident ID
layout, shared by residence permits and the new permanent residence card, and the old permanent residence
card); a passport number has no shape to tell it from other words and is masked only where it is printed.
"""

import logging
import re

from django.urls import reverse
from django.utils.cache import add_never_cache_headers, patch_cache_control

from .id_numbers import mask

# A region code, a birth date of 1800-2099, a serial and a check character, not inside a longer word.
EIGHTEEN_CHARACTER_NUMBER = re.compile(
    r"(?<![0-9A-Za-z])[1-9][0-9]{5}(?:18|19|20)[0-9]{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12][0-9]|3[01])[0-9]{3}[0-9Xx]"
    r"(?![0-9A-Za-z])"
)
OLD_PERMANENT_RESIDENCE_NUMBER = re.compile(r"(?<![0-9A-Za-z])[A-Z]{3}[0-9]{12}(?![0-9A-Za-z])")


def mask_text(text):
    """`text` with every document number of a recognisable shape masked; anything else unchanged."""
    if not isinstance(text, str) or not text:
        return text
    text = EIGHTEEN_CHARACTER_NUMBER.sub(lambda match: mask("", match.group()), text)
    return OLD_PERMANENT_RESIDENCE_NUMBER.sub(lambda match: mask("", match.group()), text)


def mask_structure(value):
    """mask_text applied to every string inside nested lists, tuples and dicts (JSON-like data)."""
    if isinstance(value, str):
        return mask_text(value)
    if isinstance(value, dict):
        return {key: mask_structure(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(mask_structure(item) for item in value)
    return value


class MaskDocumentNumbers(logging.Filter):
    """A logging filter (on handlers, so that it sees every logger's records): the message, the exception
    and the stack are rendered here and masked, so no handler formats the raw values again."""

    def filter(self, record):
        try:
            message = record.getMessage()
        except Exception:  # noqa: BLE001 - a broken log call must still be logged, masked as it stands
            message = f"{record.msg} {record.args}"
        record.msg, record.args = mask_text(message), None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = mask_text(record.exc_text)
        if record.stack_info:
            record.stack_info = mask_text(record.stack_info)
        return True


def mask_admin_log_entry(sender, instance, **kwargs):
    """pre_save of django.contrib.admin's LogEntry: the history of any admin object stays masked, whatever
    its __str__ or the change message says."""
    instance.object_repr = mask_text(instance.object_repr)
    instance.change_message = mask_text(instance.change_message)


class NoStoreForStaffMiddleware:
    """Every admin response is `Cache-Control: no-store, private`, whichever view made it.

    Django's admin views already say so (AdminSite.admin_view), but a view added under /admin/ without it
    (or a library's) would otherwise be cacheable by the browser and by proxies.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if request.path.startswith(reverse("admin:index")):
            add_never_cache_headers(response)
            patch_cache_control(response, private=True)
        return response


def mask_name(name):
    """A candidate's name on lists others may glimpse (the counter's screen): the first character of each part
    kept, the rest starred (张三丰 → 张**, John Smith → J*** S****)."""
    return " ".join(part[:1] + "*" * (len(part) - 1) for part in (name or "").split())

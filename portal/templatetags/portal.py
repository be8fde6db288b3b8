import datetime

from django import template
from django.utils import dateformat, timezone

register = template.Library()


@register.filter
def moment(value):
    """A date as 2024-07-02, a moment as 2024-07-02 12:00 in Beijing time."""
    if isinstance(value, datetime.datetime):
        return dateformat.format(timezone.localtime(value), "Y-m-d H:i")
    if isinstance(value, datetime.date):
        return dateformat.format(value, "Y-m-d")
    return ""

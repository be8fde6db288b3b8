"""The help page's date placeholders: the mechanism lives in applications/placeholders.py, beside the session,
so that the requests' downloadable forms (tickets/documents.py) fill the same placeholders the same way."""

from applications.placeholders import PLACEHOLDER, PLACEHOLDERS, fill, help_text, session_values, spoken

__all__ = ["PLACEHOLDER", "PLACEHOLDERS", "fill", "help_text", "session_values", "spoken"]

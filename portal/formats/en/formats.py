# Dates in one format everywhere Django formats them (admin lists, change views, history): digits only, as the
# `moment` filter (core/templatetags/portal.py) writes them on the public pages and in emails.
DATE_FORMAT = "Y-m-d"
DATETIME_FORMAT = "Y-m-d H:i"
SHORT_DATE_FORMAT = "Y-m-d"
SHORT_DATETIME_FORMAT = "Y-m-d H:i"
TIME_FORMAT = "H:i"

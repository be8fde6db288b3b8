import datetime

from core.templatetags.portal import moment


def test_moments_are_shown_in_beijing_time_and_dates_as_they_are():
    assert moment(datetime.datetime(2024, 7, 2, 10, 0, tzinfo=datetime.UTC)) == "2024-07-02 18:00"
    assert moment(datetime.datetime(2024, 12, 31, 16, 5, tzinfo=datetime.UTC)) == "2025-01-01 00:05"
    assert moment(datetime.date(2024, 7, 2)) == "2024-07-02"
    assert moment(None) == "" and moment("") == ""

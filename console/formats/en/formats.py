"""The reference host's English date formats: the Django admin shows times as the console pages do
(2026-11-29 20:25:03 UTC, the time zone always named), not "Nov. 29, 2026, 8:25 p.m."."""

DATE_FORMAT = "Y-m-d"
DATETIME_FORMAT = "Y-m-d H:i:s T"
SHORT_DATE_FORMAT = "Y-m-d"
SHORT_DATETIME_FORMAT = "Y-m-d H:i:s T"
TIME_FORMAT = "H:i:s"

"""The analytics service's problem types (``https://sotay.vn/problems/<slug>``), in one place."""

from __future__ import annotations

from sotay_kit.errors import Unprocessable


class ReportTooLarge(Unprocessable):
    slug, title = "report-too-large", "Báo cáo quá lớn"

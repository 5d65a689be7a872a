from pydantic import Field
from sotay_kit.settings import ServiceSettings, settings_config


class AnalyticsSettings(ServiceSettings):
    model_config = settings_config("analytics")

    # How often the business gauges (/metrics) are recomputed from the projections; 0 = never.
    gauge_refresh_seconds: float = Field(default=60.0, ge=0)
    # Rows a report may have (JSON, CSV or XLSX); beyond it the caller must narrow the org or
    # the period (422).
    report_max_rows: int = Field(default=50_000, ge=1, le=1_000_000)

from pydantic import Field
from sotay_kit.settings import ServiceSettings, settings_config


class AnalyticsSettings(ServiceSettings):
    model_config = settings_config("analytics")

    # How often the business gauges (/metrics) are recomputed from the projections; 0 = never.
    gauge_refresh_seconds: float = Field(default=60.0, ge=0)

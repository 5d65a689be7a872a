from sotay_kit.settings import ServiceSettings, settings_config


class AnalyticsSettings(ServiceSettings):
    model_config = settings_config("analytics")

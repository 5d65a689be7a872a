from sotay_kit.settings import ServiceSettings, settings_config


class NotifySettings(ServiceSettings):
    model_config = settings_config("notify")

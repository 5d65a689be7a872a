from sotay_kit.settings import ServiceSettings, settings_config


class MeetingsSettings(ServiceSettings):
    model_config = settings_config("meetings")

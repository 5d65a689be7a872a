from sotay_kit.settings import ServiceSettings, settings_config


class DocumentsSettings(ServiceSettings):
    model_config = settings_config("documents")

pytest_plugins = ["sotay_kit.testing.plugin"]

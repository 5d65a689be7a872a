pytest_plugins = ["sotay_devstack.testing"]

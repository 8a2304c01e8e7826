pytest_plugins = ["quxiang.common.testing.plugin"]

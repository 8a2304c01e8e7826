from quxiang.common.migrations import run_env

run_env([])  # the service's own metadata joins the bus tables here as it grows

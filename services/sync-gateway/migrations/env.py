from quxiang.common.migrations import run_env
from quxiang.sync_gateway.adapters.tables import metadata

run_env([metadata])

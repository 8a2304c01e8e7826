from quxiang.common.migrations import run_env
from quxiang.stats.adapters.tables import metadata

run_env([metadata])

from quxiang.common.migrations import run_env
from quxiang.records.adapters.tables import metadata

run_env([metadata])

from quxiang.accounts.adapters.tables import metadata
from quxiang.common.migrations import run_env

run_env([metadata])

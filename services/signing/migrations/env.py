from quxiang.common.migrations import run_env
from quxiang.signing.adapters.tables import metadata

run_env([metadata])

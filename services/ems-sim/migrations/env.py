from quxiang.common.migrations import run_env
from quxiang.ems_sim.adapters.tables import metadata

run_env([metadata])

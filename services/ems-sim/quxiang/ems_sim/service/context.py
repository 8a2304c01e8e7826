"""What the use cases need, built once by the bootstrap."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy.engine import Engine

from quxiang.common.config import Config
from quxiang.ems_sim.service.counters import Counters
from quxiang.ems_sim.service.faults import FaultSwitch


@dataclass
class EmsSim:
    config: Config
    engine: Engine
    faults: FaultSwitch = field(default_factory=FaultSwitch)
    counters: Counters = field(default_factory=Counters)

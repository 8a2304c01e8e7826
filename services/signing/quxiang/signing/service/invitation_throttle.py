"""A unit that keeps inviting graduates the roster does not know (a wrong 考生号 or name) is stopped
for a while: each invitation that matches tells the unit the graduate's school, 院系 and 专业, so
trying pairs until one matches would reveal strangers. A unit typing a job fair's list makes a few
mistakes, not dozens in a quarter of an hour.

The lock is checked before the roster is read and a miss counted after, in its own transaction (the
invitation's is rolled back by the refusal). Invitations sent all at once may each pass the check
before any is counted, so a burst may go up to its own size past the limit before the lock holds;
counting every invitation ahead, as logins are, would serialize a unit's invitations on one row.
"""

from __future__ import annotations

import math
from datetime import timedelta

from quxiang.common.db import reading
from quxiang.common.throttle import FailureCounter
from quxiang.common.web.errors import ProblemError
from quxiang.signing.adapters.tables import invitation_throttle
from quxiang.signing.service.context import Signing

WINDOW = timedelta(minutes=15)
LOCKOUT = timedelta(minutes=15)
LIMIT = 30  # invitations naming no graduate within the window

COUNTER = FailureCounter(invitation_throttle, WINDOW, LOCKOUT)


def key(employer_id: str) -> str:
    return f"employer:{employer_id}"


def ensure_allowed(service: Signing, employer_id: str) -> None:
    """Refuse (429 ``too_many_attempts``, Retry-After) while the unit is locked."""
    with reading(service.engine) as conn:
        remaining = COUNTER.locked_for(conn, [key(employer_id)])
    if remaining:
        raise ProblemError(429, "too_many_attempts",
                           detail=f"未找到的毕业生次数过多，请 {math.ceil(remaining / 60)} 分钟后再发起邀请",
                           headers={"Retry-After": str(remaining)}, retry_after=remaining)


def record_miss(service: Signing, employer_id: str) -> None:
    with service.unit_of_work() as uow:
        COUNTER.count_failure(uow.session, key(employer_id), LIMIT)
        uow.commit()

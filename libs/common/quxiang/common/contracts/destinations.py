"""Events published by signing about destination registrations (去向登记) and their void requests."""

from __future__ import annotations

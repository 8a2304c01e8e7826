"""Pages of a list: what was asked (``PageRequest``, with the server's cap) and what is answered
(``Page``). Every service's lists use these, so page sizes and caps behave the same everywhere."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

T = TypeVar("T")

DEFAULT_PAGE_SIZE = 20
MAX_PAGE_SIZE = 100  # the server's cap: a larger page_size is served as 100 (the response says so)
# The last page number asked for: its offset (at most 10^9 rows) must fit the database's OFFSET, a
# 32-bit integer; no list comes near it, and a larger number is refused rather than a 500.
MAX_PAGE = 10_000_000


@dataclass(frozen=True)
class PageRequest:
    page: int = 1
    page_size: int = DEFAULT_PAGE_SIZE

    def __post_init__(self) -> None:
        object.__setattr__(self, "page", max(1, self.page))
        object.__setattr__(self, "page_size", min(max(1, self.page_size), MAX_PAGE_SIZE))

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.page_size


FIRST_PAGE = PageRequest()


@dataclass(frozen=True)
class Page(Generic[T]):
    items: Sequence[T]
    page: int
    page_size: int
    total: int

    @property
    def pages(self) -> int:
        return (self.total + self.page_size - 1) // self.page_size

    @classmethod
    def of(cls, items: Sequence[T], total: int, request: PageRequest) -> Page[T]:
        return cls(items=items, page=request.page, page_size=request.page_size, total=total)

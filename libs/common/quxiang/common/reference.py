"""The public code tables (代码表) that graduate records, agreements and statistics store.

The employment management system stores codes, not names, so the platform must accept exactly its
codes and nothing else: a record with an unknown 单位性质 or 毕业去向 code is refused there and the
sync fails long after the graduate has left the page. Checking every code against the same tables,
the same way (``CodeTable.require``), at the edge where data comes in avoids that.

The tables are package data (``quxiang/common/data/*.csv``, see the README there for where each
came from), read once per process and cached: they change with a release, never at run time.

Region codes (生源所在地, 单位所在地) are six-digit GB/T 2260 codes. No maintained package of the full
list was fit to depend on (see the data README), so ``region`` checks their structure and that the
first two digits are a province of ``provinces()``; it knows names only for province-level codes.
"""

from __future__ import annotations

import csv
import functools
import io
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from importlib import resources
from types import MappingProxyType
from typing import Generic, Literal, Protocol, TypeVar, cast, overload

__all__ = [
    "PLACEMENT_BUCKETS",
    "TRANSFER_KINDS",
    "CodeTable",
    "DestinationCategory",
    "EducationLevel",
    "EmployerNature",
    "Industry",
    "PositionCategory",
    "Province",
    "Region",
    "TransferType",
    "UnknownCode",
    "destination_categories",
    "destination_category",
    "education_levels",
    "employer_natures",
    "industries",
    "is_valid_region",
    "outside_mainland",
    "position_categories",
    "province",
    "provinces",
    "region",
    "region_province",
    "transfer_types",
    "validate_region_code",
]

# The four terms of 毕业去向落实率 = 单位就业率 + 自主创业率 + 自由职业率 + 升学率; a destination whose
# bucket is empty is "not placed" and counts only in the denominator.
PLACEMENT_BUCKETS: tuple[str, ...] = ("unit_employment", "entrepreneurship", "freelance", "further_study")

TransferKind = Literal["archive", "hukou"]
TRANSFER_KINDS: tuple[TransferKind, ...] = ("archive", "hukou")

# Long enough to recognise a typo, short enough that a pasted document does not end up in a log.
_MAX_SHOWN = 40


class UnknownCode(ValueError):
    """A value that is not a code of the table it was checked against.

    The message names the field and the value so the API's 400/422 detail tells the user which
    input to fix; codes are public identifiers, so echoing them is safe (unlike identity numbers).
    """

    def __init__(self, field: str, value: object, table: str | None = None) -> None:
        self.field = field
        self.value = value
        self.table = table
        shown = repr(value)
        if len(shown) > _MAX_SHOWN:
            shown = shown[:_MAX_SHOWN] + "…"
        where = f"（{table}）" if table and table != field else ""
        super().__init__(f"{field}：未知代码 {shown}{where}")


class _Row(Protocol):
    @property
    def code(self) -> str: ...

    @property
    def name_zh(self) -> str: ...


R = TypeVar("R", bound=_Row)


class CodeTable(Generic[R]):
    """One code table: rows in file order, looked up by ``code``.

    Every table is checked the same way: ``code in table``, ``table.get(code)``,
    ``table.label(code)`` for display and ``table.require(code, field)`` at input boundaries.
    """

    __slots__ = ("_by_code", "_rows", "name")

    def __init__(self, name: str, rows: Iterable[R]) -> None:
        self.name = name
        self._rows: tuple[R, ...] = tuple(rows)
        by_code: dict[str, R] = {}
        for row in self._rows:
            # A blank or repeated code would make lookups silently pick one row; a data file that
            # has one is broken and must fail at load, not in a graduate's request.
            if not row.code or row.code != row.code.strip():
                raise ValueError(f"{name}: blank or padded code {row.code!r}")
            if row.code in by_code:
                raise ValueError(f"{name}: duplicate code {row.code!r}")
            by_code[row.code] = row
        self._by_code: Mapping[str, R] = MappingProxyType(by_code)

    def __contains__(self, code: object) -> bool:
        return isinstance(code, str) and code in self._by_code

    def __iter__(self) -> Iterator[R]:
        return iter(self._rows)

    def __len__(self) -> int:
        return len(self._rows)

    def __repr__(self) -> str:
        return f"<CodeTable {self.name} ({len(self._rows)} codes)>"

    @property
    def rows(self) -> tuple[R, ...]:
        return self._rows

    def codes(self) -> tuple[str, ...]:
        return tuple(row.code for row in self._rows)

    def get(self, code: object) -> R | None:
        """The row for ``code``, or None. Non-string input is simply not a code."""
        return self._by_code.get(code) if isinstance(code, str) else None

    def label(self, code: object, default: str | None = None) -> str:
        """The Chinese name for ``code``.

        Unknown codes raise unless ``default`` is given: list views and exports pass a default so
        one bad stored value does not break a whole page, everything else should hear about it.
        """
        row = self.get(code)
        if row is not None:
            return row.name_zh
        if default is not None:
            return default
        raise UnknownCode(self.name, code, self.name)

    def require(self, code: object, field_name: str) -> R:
        """The row for ``code``; raises ``UnknownCode`` naming ``field_name`` and the value."""
        row = self.get(code)
        if row is None:
            raise UnknownCode(field_name, code, self.name)
        return row


# --- row types ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class DestinationCategory:
    """毕业去向类别. A three-digit code is a sub-category of the two-digit code it starts with."""

    code: str
    parent_code: str | None
    name_zh: str
    name_en: str
    group: str
    placement_bucket: str | None
    requires_agreement: bool

    @property
    def parent(self) -> DestinationCategory | None:
        return destination_categories().get(self.parent_code) if self.parent_code else None

    @property
    def top_level(self) -> DestinationCategory:
        """The two-digit category: statistics group by it."""
        return self.parent or self

    @property
    def is_placed(self) -> bool:
        """Whether it counts towards 毕业去向落实率."""
        return self.placement_bucket is not None


@dataclass(frozen=True, slots=True)
class EducationLevel:
    """学历."""

    code: str
    name_zh: str
    name_en: str


@dataclass(frozen=True, slots=True)
class EmployerNature:
    """单位性质."""

    code: str
    name_zh: str
    name_en: str


@dataclass(frozen=True, slots=True)
class Industry:
    """单位行业; ``gb4754_section`` is None for codes with no GB/T 4754 section (80 军队)."""

    code: str
    name_zh: str
    gb4754_section: str | None


@dataclass(frozen=True, slots=True)
class PositionCategory:
    """工作职位类别."""

    code: str
    name_zh: str


@dataclass(frozen=True, slots=True)
class TransferType:
    """档案转递 (kind ``archive``) or 户口迁转 (kind ``hukou``) type.

    The two kinds share code values (``origin``, ``employer`` ...) with different names, so a code
    only means something together with its kind: look codes up in ``transfer_types(kind)``.
    """

    kind: TransferKind
    code: str
    name_zh: str
    name_en: str
    address_required: bool


@dataclass(frozen=True, slots=True)
class Province:
    """A provincial-level division. ``kind`` is municipality, province, autonomous_region or corps;
    outside the mainland (``outside_mainland``) taiwan or sar."""

    code: str
    name_zh: str
    name_en: str
    kind: str

    @property
    def in_gb2260(self) -> bool:
        # 66 (the Corps) is the employment system's code, not a GB/T 2260 one.
        return self.kind != "corps"


@dataclass(frozen=True, slots=True)
class Region:
    """A six-digit administrative region code, resolved as far as the shipped data allows.

    ``name`` is known only for province-level codes (``xx0000``); below that it is None because no
    list of county names is shipped. ``level`` follows the code's structure.
    """

    code: str
    province: Province
    level: Literal["province", "prefecture", "county"]
    name: str | None


# --- loading -----------------------------------------------------------------------------------


def _read(filename: str, columns: tuple[str, ...]) -> list[dict[str, str]]:
    text = resources.files("quxiang.common").joinpath("data", filename).read_text(encoding="utf-8-sig")
    reader = csv.DictReader(io.StringIO(text))
    # Rows are built by column name, so a renamed or reordered column would otherwise surface as a
    # KeyError deep inside a request; say which file drifted instead.
    if tuple(reader.fieldnames or ()) != columns:
        raise RuntimeError(f"{filename}: expected columns {columns}, found {reader.fieldnames}")
    return list(reader)


def _yes(value: str, filename: str) -> bool:
    if value not in ("yes", "no"):
        raise RuntimeError(f"{filename}: expected yes/no, found {value!r}")
    return value == "yes"


@functools.cache
def destination_categories() -> CodeTable[DestinationCategory]:
    """毕业去向类别代码, including three-digit sub-categories."""
    filename = "destination_categories.csv"
    rows = [
        DestinationCategory(
            code=r["code"],
            parent_code=r["parent"] or None,
            name_zh=r["name_zh"],
            name_en=r["name_en"],
            group=r["group"],
            placement_bucket=r["placement_bucket"] or None,
            requires_agreement=_yes(r["requires_agreement"], filename),
        )
        for r in _read(
            filename,
            ("code", "parent", "name_zh", "name_en", "group", "placement_bucket", "requires_agreement"),
        )
    ]
    table = CodeTable("毕业去向类别代码", rows)
    for row in table:
        # The README's rule (parent = first two digits) is what statistics rely on; a file that
        # breaks it would misfile graduates, so refuse to load it.
        expected = row.code[:2] if len(row.code) > 2 else None
        if row.parent_code != expected or (expected is not None and expected not in table):
            raise RuntimeError(f"{filename}: {row.code} has parent {row.parent_code!r}, expected {expected!r}")
        if row.placement_bucket is not None and row.placement_bucket not in PLACEMENT_BUCKETS:
            raise RuntimeError(f"{filename}: {row.code} has unknown bucket {row.placement_bucket!r}")
    return table


def destination_category(code: str, field_name: str = "毕业去向类别") -> DestinationCategory:
    """The category for ``code`` (``.parent``, ``.placement_bucket``); raises ``UnknownCode``."""
    return destination_categories().require(code, field_name)


@functools.cache
def education_levels() -> CodeTable[EducationLevel]:
    """学历代码."""
    rows = _read("education_levels.csv", ("code", "name_zh", "name_en"))
    return CodeTable("学历代码", (EducationLevel(**r) for r in rows))


@functools.cache
def employer_natures() -> CodeTable[EmployerNature]:
    """单位性质代码."""
    rows = _read("employer_nature.csv", ("code", "name_zh", "name_en"))
    return CodeTable("单位性质代码", (EmployerNature(**r) for r in rows))


@functools.cache
def industries() -> CodeTable[Industry]:
    """单位行业代码 (GB/T 4754 sections, re-coded)."""
    rows = _read("industries.csv", ("code", "name_zh", "gb4754_section"))
    return CodeTable(
        "单位行业代码",
        (Industry(code=r["code"], name_zh=r["name_zh"], gb4754_section=r["gb4754_section"] or None) for r in rows),
    )


@functools.cache
def position_categories() -> CodeTable[PositionCategory]:
    """工作职位类别代码."""
    rows = _read("position_categories.csv", ("code", "name_zh"))
    return CodeTable("工作职位类别代码", (PositionCategory(**r) for r in rows))


@functools.cache
def _transfer_rows() -> tuple[TransferType, ...]:
    filename = "transfer_types.csv"
    rows = []
    for r in _read(filename, ("applies_to", "code", "name_zh", "name_en", "address_required")):
        if r["applies_to"] not in TRANSFER_KINDS:
            raise RuntimeError(f"{filename}: unknown applies_to {r['applies_to']!r}")
        rows.append(
            TransferType(
                kind=cast(TransferKind, r["applies_to"]),  # checked just above
                code=r["code"],
                name_zh=r["name_zh"],
                name_en=r["name_en"],
                address_required=_yes(r["address_required"], filename),
            )
        )
    return tuple(rows)


@functools.cache
def _transfer_table(kind: TransferKind) -> CodeTable[TransferType]:
    name = "档案转递类型" if kind == "archive" else "户口迁转类型"
    return CodeTable(name, (row for row in _transfer_rows() if row.kind == kind))


@overload
def transfer_types(kind: None = None) -> tuple[TransferType, ...]: ...


@overload
def transfer_types(kind: TransferKind) -> CodeTable[TransferType]: ...


def transfer_types(kind: TransferKind | None = None) -> CodeTable[TransferType] | tuple[TransferType, ...]:
    """档案转递 / 户口迁转 types, told apart by the CSV's ``applies_to`` column.

    With a kind, the table to check codes against. Without one, every row of both kinds: the
    kinds reuse code values, so the rows cannot form one table keyed by code.
    """
    if kind is None:
        return _transfer_rows()
    if kind not in TRANSFER_KINDS:
        raise UnknownCode("kind", kind, "档案/户口")
    return _transfer_table(kind)


@functools.cache
def provinces() -> CodeTable[Province]:
    """The 31 provincial-level divisions of mainland China, plus 66 新疆生产建设兵团."""
    rows = _read("regions_provinces.csv", ("code", "name_zh", "name_en", "kind"))
    return CodeTable("省级行政区划代码", (Province(**r) for r in rows))


@functools.cache
def outside_mainland() -> CodeTable[Province]:
    """71 台湾省, 81 香港特别行政区 and 82 澳门特别行政区: no province of the platform (no school is
    there), but GB/T 2260 codes a graduate comes from (生源所在地) or a unit is in. GB/T 2260
    divides none of them further, so only ``xx0000`` is a region code of theirs."""
    rows = _read("regions_outside_mainland.csv", ("code", "name_zh", "name_en", "kind"))
    return CodeTable("省级行政区划代码", (Province(**r) for r in rows))


def region_province(code: str) -> Province | None:
    """The provincial-level division a region code's first two digits name, mainland or not."""
    return provinces().get(code[:2]) or outside_mainland().get(code[:2])


def province(code: str, field_name: str = "省份") -> Province:
    """The province for a two-digit ``code``; raises ``UnknownCode``."""
    return provinces().require(code, field_name)


# --- six-digit region codes ----------------------------------------------------------------------


def _parse_region(code: object) -> Region | None:
    if not isinstance(code, str) or len(code) != 6 or not code.isascii() or not code.isdigit():
        return None
    prov = provinces().get(code[:2])
    if prov is None:
        beyond = outside_mainland().get(code[:2])
        if beyond is None or code[2:] != "0000":
            return None
        return Region(code=code, province=beyond, level="province", name=beyond.name_zh)
    prefecture, county = code[2:4], code[4:6]
    if prefecture == "00":
        # GB/T 2260 has no county directly under a province with prefecture digits 00 (directly
        # administered counties use 90), so xx00yy with yy != 00 is a typo.
        if county != "00":
            return None
        return Region(code=code, province=prov, level="province", name=prov.name_zh)
    return Region(code=code, province=prov, level="prefecture" if county == "00" else "county", name=None)


def region(code: str, field_name: str = "行政区划代码") -> Region:
    """Resolve a six-digit region code to its province; raises ``UnknownCode`` if malformed.

    The check is structural (six digits, a known province, no ``xx00yy``), not a lookup in the
    full GB/T 2260 list: a code that looks right but was never issued passes. See the data README.
    """
    parsed = _parse_region(code)
    if parsed is None:
        raise UnknownCode(field_name, code, "GB/T 2260 行政区划代码")
    return parsed


def is_valid_region(code: object) -> bool:
    """Whether ``code`` passes ``region``'s check."""
    return _parse_region(code) is not None


def validate_region_code(code: str, field_name: str) -> str:
    """Return ``code`` if it is a valid six-digit region code, else raise ``UnknownCode``.

    Surrounding whitespace is dropped (spreadsheet imports pad cells); nothing else is changed.
    """
    parsed = _parse_region(code.strip() if isinstance(code, str) else code)
    if parsed is None:
        raise UnknownCode(field_name, code, "GB/T 2260 行政区划代码")
    return parsed.code

"""A scripted scenario across services: province 44 with two schools (and one school of province 45
that its users must never see), graduates through agreements, terminations, destination
registrations, voids, archive and hukou reviews. ``EXPECTED`` is worked out by hand."""

from __future__ import annotations

import uuid

from .stats_events import (
    A,
    D,
    agreement,
    agreement_type_set,
    department_created,
    destination,
    module_enabled,
    registration,
    roster,
    school_created,
    settings_updated,
)

ZSU, SCUT, GXU = "10558", "10561", "10593"
CS, LAW, SE, GX = (str(uuid.UUID(int=i)) for i in (1, 2, 3, 4))


def gid(name):
    return str(uuid.uuid5(uuid.NAMESPACE_OID, name))


def events():
    """The scenario's events in the order they happened (some of them arrive out of order anyway)."""
    g = {n: gid(n) for n in ("g1", "g2", "g3", "g4", "g5", "g6", "g7", "g8", "h1", "h2", "h3", "x1", "z")}
    out = [
        school_created(ZSU, "中山大学"), school_created(SCUT, "华南理工大学"), school_created(GXU, "广西大学", "45"),
        department_created(CS, ZSU, "01", "计算机学院"), department_created(LAW, ZSU, "02", "法学院"),
        department_created(SE, SCUT, "01", "软件学院"), department_created(GX, GXU, "01", "经济学院"),
        module_enabled("employment"), module_enabled("archive"),
        agreement_type_set(ZSU, "two_party", 2), agreement_type_set(ZSU, "three_party", 1),  # late: ignored
        agreement_type_set(SCUT, "three_party", 1),
        settings_updated(ZSU, "employment", True, 1), settings_updated(ZSU, "archive", True, 2),
        settings_updated(ZSU, "archive", False, 1),  # older: ignored
        roster(g["g1"], ZSU, CS), roster(g["g2"], ZSU, CS), roster(g["g3"], ZSU, CS),
        roster(g["g4"], ZSU, LAW), roster(g["g5"], ZSU, LAW), roster(g["g6"], ZSU, LAW),
        roster(g["g7"], ZSU, LAW, level="11"),
        roster(g["g8"], ZSU, CS, year=2025, sequence=2, updated=True),  # the update before the registration
        roster(g["g8"], ZSU, LAW, year=2025, sequence=1),
        roster(g["h1"], SCUT, SE), roster(g["h2"], SCUT, SE), roster(g["h3"], SCUT, SE),
        roster(g["x1"], GXU, GX),
    ]
    a1, a2, a3, a4, a5, ax, az = (f"agr-{i}" for i in range(7))

    def agr(type_, aid, seq, status, who, school=ZSU, flow="online"):
        return agreement(type_, aid, seq, status, g[who], school, flow=flow)

    def dst(type_, rid, seq, status, who, code, school=ZSU):
        return destination(type_, rid, seq, status, g[who], school, code)

    out += [
        # g1: invited, accepted, department then school approval: 已登记 (10)
        agr(A.AGREEMENT_INVITED, a1, 1, "invited", "g1"), agr(A.AGREEMENT_ACCEPTED, a1, 2, "department_review", "g1"),
        agr(A.AGREEMENT_DEPARTMENT_APPROVED, a1, 3, "school_review", "g1"),
        agr(A.AGREEMENT_APPROVED, a1, 4, "approved", "g1"),
        # g2: approved, terminated, then a destination registration under review: 审核中
        agr(A.AGREEMENT_APPROVED, a2, 4, "approved", "g2"), agr(A.AGREEMENT_TERMINATED, a2, 5, "terminated", "g2"),
        dst(D.DESTINATION_SUBMITTED, "dst-2", 1, "department_review", "g2", "11"),
        # g3: 境内升学 approved, void requested: still 已登记 (80)
        dst(D.DESTINATION_SUBMITTED, "dst-3", 1, "department_review", "g3", "80"),
        dst(D.DESTINATION_APPROVED, "dst-3", 3, "approved", "g3", "80"),
        dst(D.DESTINATION_VOID_REQUESTED, "dst-3", 4, "void_review", "g3", "80"),
        # g4: 自主创业 approved then voided: 未登记
        dst(D.DESTINATION_APPROVED, "dst-4", 3, "approved", "g4", "75"),
        dst(D.DESTINATION_VOIDED, "dst-4", 5, "voided", "g4", "75"),
        # g5: offline application under department review: 审核中
        agr(A.AGREEMENT_APPLIED, a3, 1, "application_department_review", "g5", flow="offline"),
        # g6: no destination; archive approved, hukou submitted
        registration("archive", "submitted", "arc-6", 2, "department_review", g["g6"], ZSU),
        registration("archive", "approved", "arc-6", 4, "approved", g["g6"], ZSU),
        registration("hukou", "submitted", "huk-6", 2, "department_review", g["g6"], ZSU),
        # g7 (学历 11): 科研助理 sub-category approved: 已登记 (271, parent 27)
        dst(D.DESTINATION_APPROVED, "dst-7", 3, "approved", "g7", "271"),
        # g8 (2025): 待就业 approved: 已登记 but not placed
        dst(D.DESTINATION_APPROVED, "dst-8", 3, "approved", "g8", "70"),
        # SCUT: h1 approved (10); h2 invited only; h3 archive rejected, hukou approved
        agr(A.AGREEMENT_APPROVED, a4, 4, "approved", "h1", SCUT),
        agr(A.AGREEMENT_INVITED, a5, 1, "invited", "h2", SCUT),
        registration("archive", "submitted", "arc-h3", 2, "department_review", g["h3"], SCUT),
        registration("archive", "rejected", "arc-h3", 3, "department_rejected", g["h3"], SCUT),
        registration("hukou", "approved", "huk-h3", 4, "approved", g["h3"], SCUT),
        # province 45 and a graduate not in any roster
        agr(A.AGREEMENT_APPROVED, ax, 4, "approved", "x1", GXU),
        agr(A.AGREEMENT_APPROVED, az, 4, "approved", "z", ZSU),
    ]
    return out


def figures(total, emp, arc, huk):
    def one(registered, review):
        return {"total": total, "registered": registered, "review": review,
                "unregistered": total - registered - review}
    return {"employment": one(*emp), "archive": one(*arc), "hukou": one(*huk)}


EXPECTED_PROVINCE = {
    ZSU: figures(8, (4, 2), (1, 0), (0, 1)),
    SCUT: figures(3, (1, 0), (0, 0), (1, 0)),
    "total": figures(11, (5, 2), (1, 0), (1, 1)),
}
EXPECTED_ZSU_DEPARTMENTS = {CS: figures(4, (3, 1), (0, 0), (0, 0)), LAW: figures(4, (1, 1), (1, 0), (0, 1))}

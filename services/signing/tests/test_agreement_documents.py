"""The approved agreement's PDF: due at approval and rendered after it (by the job or by the first
request that needs it, the same bytes either way), the same bytes for every party, its text real
Chinese with the parties and the number, and verification of a genuine and a modified copy."""

from __future__ import annotations

import hashlib
import io

import pytest
from pypdf import PdfReader

from .test_online_signing import Scene


@pytest.fixture
def approved(client, world):
    scene = Scene(client, world)
    scene.settings()
    agreement = scene.invite(scene.e1).get_json()
    scene.act(agreement["id"], "accept", world.graduate_user(scene.g1))
    scene.review(agreement["id"], world.department_user(scene.cs))
    assert scene.review(agreement["id"], scene.school).get_json()["status"] == "approved"
    return scene, agreement


def download(scene, agreement_id, headers):
    return scene.client.get(f"/agreements/{agreement_id}/agreement.pdf", headers=headers)


def test_every_party_downloads_the_same_document(approved, world):
    scene, agreement = approved
    copies = [download(scene, agreement["id"], headers) for headers in (
        world.graduate_user(scene.g1), world.employer_user(scene.e1), scene.school)]
    assert all(c.status_code == 200 and c.mimetype == "application/pdf" for c in copies)
    assert len({c.get_data() for c in copies}) == 1
    pdf = copies[0].get_data()
    digest = hashlib.sha256(pdf).hexdigest()
    assert copies[0].headers["X-Content-SHA256"] == digest
    # a phone's downloads list the Chinese name; clients without RFC 5987 get the ASCII one
    from urllib.parse import quote
    disposition = copies[0].headers["Content-Disposition"]
    assert f"filename*=UTF-8''{quote('就业协议书-' + agreement['number'] + '.pdf')}" in disposition
    assert f"filename=agreement-{agreement['number']}.pdf;" in disposition
    detail = scene.client.get(f"/agreements/{agreement['id']}", headers=scene.school).get_json()
    assert detail["document_sha256"] == digest
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)
    for expected in (agreement["number"], "学生1", "广州示例信息科技有限公司", "中山大学", "软件工程师"):
        assert expected in text
    # 单位地址 is the unit's registered one, not the position's 工作地点 printed twice
    assert "单位地址 广州市天河区示例路1号" in text.splitlines(), text
    assert download(scene, agreement["id"], world.employer_user(scene.e2)).status_code == 404


def test_no_document_before_approval(client, world):
    scene = Scene(client, world)
    scene.settings()
    agreement = scene.invite(scene.e1).get_json()
    refused = download(scene, agreement["id"], world.employer_user(scene.e1))
    assert refused.status_code == 409 and refused.get_json()["code"] == "not_approved"


def test_verification_of_genuine_and_modified_copies(approved, world):
    scene, agreement = approved
    pdf = download(scene, agreement["id"], world.graduate_user(scene.g1)).get_data()

    def verify_file(data):
        return scene.client.post("/agreements/verify", data={"file": (io.BytesIO(data), "a.pdf")},
                                 content_type="multipart/form-data").get_json()

    genuine = verify_file(pdf)
    assert genuine["genuine"] is True and genuine["agreement_number"] == agreement["number"]
    assert genuine["status_label"] == "签约审核通过" and genuine["in_force"] is True
    modified = verify_file(pdf.replace(b"%%EOF", b"%%EOF\n%", 1))
    assert modified["genuine"] is False
    by_hash = scene.client.post("/agreements/verify", json={"sha256": hashlib.sha256(pdf).hexdigest().upper()})
    assert by_hash.get_json()["genuine"] is True
    assert scene.client.post("/agreements/verify", json={"sha256": "abc"}).status_code == 422
    assert scene.client.post("/agreements/verify", json={}).status_code == 400
    for not_an_object in (["sha256"], "sha256", 5):  # public: any JSON at all must get a clear answer
        assert scene.client.post("/agreements/verify", json=not_an_object).status_code == 400


def _kept(service, agreement_id):
    from sqlalchemy import select

    from quxiang.signing.adapters.tables import agreement_documents

    with service.engine.connect() as conn:
        return conn.execute(select(agreement_documents).where(
            agreement_documents.c.agreement_id == agreement_id)).first()


def test_the_approval_answers_without_rendering_and_the_job_renders_once(client, world, service, monkeypatch):
    from quxiang.signing.adapters import agreement_pdf
    from quxiang.signing.service import documents

    scene = Scene(client, world)
    scene.settings()
    agreement = scene.invite(scene.e1).get_json()
    scene.act(agreement["id"], "accept", world.graduate_user(scene.g1))
    scene.review(agreement["id"], world.department_user(scene.cs))
    render = documents.render_agreement

    def not_now(doc):
        raise AssertionError("rendered inside the approving request")

    monkeypatch.setattr(documents, "render_agreement", not_now)
    approved = scene.review(agreement["id"], scene.school)
    assert approved.status_code == 200 and approved.get_json()["status"] == "approved"
    due = _kept(service, agreement["id"])
    assert due is not None and due.pdf is None and due.sha256 is None

    monkeypatch.setattr(documents, "render_agreement", render)
    assert documents.render_pending(service.engine) == 1
    kept = _kept(service, agreement["id"])
    assert kept.sha256 == hashlib.sha256(kept.pdf).hexdigest()
    assert documents.render_pending(service.engine) == 0  # nothing due any more
    # The same bytes as rendering it afresh from the agreement (what a download before the job gets).
    row = _kept(service, agreement["id"])
    with service.engine.connect() as conn:
        from quxiang.signing.adapters import store

        a = store.get_agreement(conn, agreement["id"])
        again = agreement_pdf.render_agreement(documents.build_document(
            a._asdict(), store.get_graduate(conn, a.graduate_id), store.get_school(conn, a.school_code),
            row.created_at))
    assert again == bytes(kept.pdf)


def test_a_download_before_the_job_renders_and_keeps_the_document(approved, world, service):
    from quxiang.signing.service import documents

    scene, agreement = approved
    assert _kept(service, agreement["id"]).pdf is None
    first = download(scene, agreement["id"], world.graduate_user(scene.g1))
    assert first.status_code == 200
    kept = _kept(service, agreement["id"])
    assert bytes(kept.pdf) == first.get_data() and first.headers["X-Content-SHA256"] == kept.sha256
    assert documents.render_pending(service.engine) == 0  # the download's render is the kept one
    assert download(scene, agreement["id"], scene.school).get_data() == first.get_data()


def test_a_document_that_cannot_be_rendered_holds_up_neither_the_others_nor_its_detail(client, world, service,
                                                                                       monkeypatch):
    from quxiang.signing.service import documents

    monkeypatch.setattr(documents, "_failures", {})
    scene = Scene(client, world)
    scene.settings(department_review=False)
    approved = []
    for employer, i, graduate in ((scene.e1, 1, scene.g1), (scene.e2, 2, scene.g2)):
        agreement = scene.invite(employer, i=i).get_json()
        assert scene.act(agreement["id"], "accept", world.graduate_user(graduate)).status_code == 200
        assert scene.review(agreement["id"], scene.school).get_json()["status"] == "approved"
        approved.append(agreement["id"])
    broken, fine = approved
    real = documents.render_agreement

    def render(doc):
        if doc.graduate.name == "学生1":  # the older one, first in the job's queue
            raise ValueError("a glyph the font cannot draw")
        return real(doc)

    monkeypatch.setattr(documents, "render_agreement", render)
    assert documents.render_pending(service.engine) == 1  # the one behind it is rendered all the same
    assert _kept(service, fine).pdf is not None and _kept(service, broken).pdf is None
    detail = client.get(f"/agreements/{broken}", headers=scene.school)
    assert detail.status_code == 200 and detail.get_json()["document_sha256"] is None
    failures, _ = documents._failures[broken]
    assert failures == 2  # the job's try and the detail view's
    assert documents.render_pending(service.engine) == 0  # waiting out its pause: not tried at once
    assert documents._failures[broken][0] == 2
    monkeypatch.setattr(documents, "render_agreement", real)
    monkeypatch.setattr(documents, "_failures", {broken: (2, 0.0)})  # the pause is over
    assert documents.render_pending(service.engine) == 1
    assert _kept(service, broken).pdf is not None and documents._failures == {}


def test_a_detail_that_finds_the_document_rendered_by_the_jobs_meanwhile_shows_its_hash(client, world, service,
                                                                                        monkeypatch):
    from quxiang.signing.service import documents

    scene = Scene(client, world)
    scene.settings(department_review=False)
    agreement = scene.invite(scene.e1).get_json()["id"]
    scene.act(agreement, "accept", world.graduate_user(scene.g1))
    assert scene.review(agreement, scene.school).get_json()["status"] == "approved"
    real = documents._render

    def the_jobs_got_there_first(engine, agreement_id, skip_locked=False):
        real(engine, agreement_id)  # the jobs render it while the detail waits for the row
        return False                # so the detail's own render finds nothing left to do

    monkeypatch.setattr(documents, "_render", the_jobs_got_there_first)
    detail = client.get(f"/agreements/{agreement}", headers=scene.school).get_json()
    assert detail["document_sha256"] is not None
    assert detail["document_sha256"] == _kept(service, agreement).sha256

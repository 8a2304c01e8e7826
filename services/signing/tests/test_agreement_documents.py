"""The approved agreement's PDF: made at approval, the same bytes for every party, its text real
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
    detail = scene.client.get(f"/agreements/{agreement['id']}", headers=scene.school).get_json()
    assert detail["document_sha256"] == digest
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)
    for expected in (agreement["number"], "学生1", "广州示例信息科技有限公司", "中山大学", "软件工程师"):
        assert expected in text
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

"""The approved agreement's PDF and its verification.

- ``GET /agreements/<id>/agreement.pdf``: the graduate, the employer, and province, school and
  department users in scope: the approved agreement as kept; for an offline agreement whose
  application was approved, the generated agreement to print and stamp; otherwise 409.
- ``POST /agreements/verify``: anyone; a PDF (multipart ``file``, at most 10 MB) or ``{sha256}``;
  answers whether it is genuine and the agreement's current state (a terminated one says so).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import flask

from quxiang.common.auth import current_principal, public, requires
from quxiang.common.auth.principal import Access, Module, Role
from quxiang.common.db import reading
from quxiang.common.web.blueprint import Blueprint
from quxiang.common.web.errors import ProblemError
from quxiang.signing.adapters import store
from quxiang.signing.entrypoints.context import signing
from quxiang.signing.service import documents, online

blueprint = Blueprint("documents", __name__, description="协议书 PDF 与核验 Agreement documents")

MAX_VERIFY_BYTES = 10 * 1024 * 1024


@blueprint.route("/agreements/<agreement_id>/agreement.pdf")
@requires(Role.PROVINCE, Role.SCHOOL, Role.DEPARTMENT, Role.GRADUATE, Role.EMPLOYER, module=Module.EMPLOYMENT,
          access=Access.READ)
def download(agreement_id: str) -> flask.Response:
    detail = online.detail(signing(), current_principal(), agreement_id)  # 404 outside the caller's scope
    document = documents.rendered_document(signing().engine, agreement_id)
    with reading(signing().engine) as conn:
        generated = None if document else documents.generated_agreement(conn, store.get_agreement(conn, agreement_id))
    if document is None and generated is None:
        raise ProblemError(409, "not_approved", detail="协议审核通过后才能下载", current_status=detail["status"])
    pdf = bytes(document.pdf) if document else generated
    response = flask.Response(pdf, mimetype="application/pdf")
    # The name a graduate's phone shows in its downloads: Chinese (RFC 5987), ASCII for old clients.
    number = detail["number"]
    response.headers["Content-Disposition"] = (f"attachment; filename=agreement-{number}.pdf; "
                                               f"filename*=UTF-8''{quote(f'就业协议书-{number}.pdf')}")
    if document:
        response.headers["X-Content-SHA256"] = document.sha256
    return response


@blueprint.route("/agreements/verify", methods=["POST"])
@public
def verify() -> dict[str, Any]:
    flask.request.max_content_length = MAX_VERIFY_BYTES
    upload = flask.request.files.get("file")
    with reading(signing().engine) as conn:
        if upload is not None:
            return documents.verify(conn, pdf=upload.read())
        body = flask.request.get_json(silent=True) or {}
        if not isinstance(body, dict) or "sha256" not in body:  # a list or a number is no request either
            raise ProblemError(400, "file_or_sha256_required",
                               detail="请上传协议 PDF（multipart 字段 file）或提供 sha256")
        return documents.verify(conn, sha256=str(body["sha256"]))

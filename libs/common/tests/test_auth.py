"""Token verification, revocation and the access rules, as every service applies them."""

import base64
import hashlib
import hmac
import json
import time

import jwt
import marshmallow
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from flask.views import MethodView

from quxiang.common.auth import (
    Access,
    KeySet,
    Module,
    Principal,
    Role,
    Scope,
    TokenError,
    TokenVerifier,
    current_principal,
    ensure_allowed,
    ensure_visible,
    public,
    requires,
)
from quxiang.common.auth.revocation import TOKENS_REVOKED, auth_metadata, on_tokens_revoked
from quxiang.common.auth.tokens import issue_token, public_jwk
from quxiang.common.bus.outbox import UnitOfWork, make_session_factory
from quxiang.common.db import make_engine
from quxiang.common.events import catalogue
from quxiang.common.service import build_app
from quxiang.common.web.blueprint import Blueprint

AUDIENCE = "quxiang"


class Keys:
    def __init__(self):
        self.private = {"k1": Ed25519PrivateKey.generate()}
        self.fetches = 0

    def jwks(self):
        self.fetches += 1
        return {"keys": [public_jwk(key, kid) for kid, key in self.private.items()]}

    def token(self, principal, kid="k1", ttl=300, now=None, audience=AUDIENCE):
        return issue_token(principal, self.private[kid], kid, audience, ttl, now=now)


SCHOOL_USER = Principal(user_id="u-school", role=Role.SCHOOL, scope=Scope(province="44", school="10558"),
                        permissions={Module.EMPLOYMENT: Access.WRITE, Module.ARCHIVE: Access.READ,
                                     Module.HUKOU: Access.NONE})
PROVINCE_USER = Principal(user_id="u-prov", role=Role.PROVINCE, scope=Scope(province="44"))


@pytest.fixture
def keys():
    return Keys()


@pytest.fixture
def verifier(keys):
    return TokenVerifier(KeySet(keys.jwks, min_refetch=0), AUDIENCE)


def test_a_valid_token_gives_the_principal_back(keys, verifier):
    principal = verifier.verify(keys.token(SCHOOL_USER))
    assert principal.user_id == "u-school" and principal.role is Role.SCHOOL
    assert principal.scope == SCHOOL_USER.scope
    assert principal.permissions == SCHOOL_USER.permissions
    assert abs(principal.issued_at - time.time()) < 5


def _b64(data: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


@pytest.mark.parametrize("case", ["bad_signature", "alg_none", "hs256_with_public_key", "expired",
                                  "wrong_audience", "unknown_kid", "garbage", "no_role"])
def test_forged_and_stale_tokens_are_refused(keys, verifier, case):
    good = keys.token(SCHOOL_USER)
    _header, payload, _ = good.split(".")
    if case == "bad_signature":
        token = issue_token(SCHOOL_USER, Ed25519PrivateKey.generate(), "k1", AUDIENCE, 300)
        reason = "invalid_token"
    elif case == "alg_none":
        token = f"{_b64({'alg': 'none', 'kid': 'k1', 'typ': 'JWT'})}.{payload}."
        reason = "bad_algorithm"
    elif case == "hs256_with_public_key":
        # The classic confusion attack: an HMAC keyed with the published public key.
        public = keys.jwks()["keys"][0]["x"].encode()
        signing_input = f"{_b64({'alg': 'HS256', 'kid': 'k1', 'typ': 'JWT'})}.{payload}"
        signature = base64.urlsafe_b64encode(hmac.new(public, signing_input.encode(), hashlib.sha256).digest())
        token = f"{signing_input}.{signature.rstrip(b'=').decode()}"
        reason = "bad_algorithm"
    elif case == "expired":
        token = keys.token(SCHOOL_USER, now=time.time() - 3600, ttl=60)
        reason = "token_expired"
    elif case == "wrong_audience":
        token = keys.token(SCHOOL_USER, audience="someone-else")
        reason = "wrong_audience"
    elif case == "unknown_kid":
        keys.private["k9"] = Ed25519PrivateKey.generate()
        token = keys.token(SCHOOL_USER, kid="k9")
        del keys.private["k9"]
        reason = "unknown_key"
    elif case == "garbage":
        token = "not.a.token"
        reason = "malformed_token"
    else:
        claims = json.loads(base64.urlsafe_b64decode(payload + "=="))
        del claims["role"]
        token = jwt.encode(claims, keys.private["k1"], algorithm="EdDSA", headers={"kid": "k1"})
        reason = "invalid_token"
    with pytest.raises(TokenError) as caught:
        verifier.verify(token)
    assert caught.value.reason == reason


def test_a_rotated_in_key_is_learnt_from_the_jwks_without_restart(keys):
    verifier = TokenVerifier(KeySet(keys.jwks, min_refetch=0), AUDIENCE)
    verifier.verify(keys.token(SCHOOL_USER))
    keys.private["k2"] = Ed25519PrivateKey.generate()  # rotation: both keys published for a while
    assert verifier.verify(keys.token(SCHOOL_USER, kid="k2")).user_id == "u-school"
    assert verifier.verify(keys.token(SCHOOL_USER, kid="k1")).user_id == "u-school"
    assert keys.fetches == 2


def test_unknown_kids_cannot_hammer_the_jwks(keys):
    verifier = TokenVerifier(KeySet(keys.jwks, min_refetch=60), AUDIENCE)
    verifier.verify(keys.token(SCHOOL_USER))
    keys.private["k3"] = Ed25519PrivateKey.generate()
    for _ in range(5):
        with pytest.raises(TokenError):
            verifier.verify(keys.token(SCHOOL_USER, kid="k3"))
    assert keys.fetches == 1


# -- tokens remembered once accepted ----------------------------------------------------------

def _counting_decode(monkeypatch):
    calls = []
    real = jwt.decode

    def decode(*args, **kwargs):
        calls.append(1)
        return real(*args, **kwargs)
    monkeypatch.setattr(jwt, "decode", decode)
    return calls


def test_an_accepted_token_is_not_checked_again(keys, verifier, monkeypatch):
    decoded = _counting_decode(monkeypatch)
    token = keys.token(SCHOOL_USER)
    first = verifier.verify(token)
    assert verifier.verify(token) == first and verifier.verify(token).scope == SCHOOL_USER.scope
    assert len(decoded) == 1
    other = keys.token(PROVINCE_USER)
    assert verifier.verify(other).user_id == "u-prov"
    assert len(decoded) == 2


def test_a_remembered_token_still_expires(keys):
    now = [time.time()]
    verifier = TokenVerifier(KeySet(keys.jwks), AUDIENCE, clock=lambda: now[0])
    token = keys.token(SCHOOL_USER, ttl=60)
    expires = int(round(time.time(), 3)) + 60
    verifier.verify(token)
    now[0] = expires + 4  # within the 5 s leeway PyJWT allows, as at the first check
    assert verifier.verify(token).user_id == "u-school"
    now[0] = expires + 5
    with pytest.raises(TokenError) as caught:
        verifier.verify(token)
    assert caught.value.reason == "token_expired"
    now[0] = expires - 30  # forgotten, not just refused once: checked in full again (and valid)
    assert verifier.verify(token).user_id == "u-school"


def test_a_forgery_of_a_remembered_token_is_refused(keys, verifier):
    good = keys.token(SCHOOL_USER)
    verifier.verify(good)
    header, payload, _ = good.split(".")
    forged_signature = issue_token(SCHOOL_USER, Ed25519PrivateKey.generate(), "k1", AUDIENCE, 300).split(".")[2]
    for token in (f"{header}.{payload}.{forged_signature}", f"{header}.{payload}.", good + "A"):
        with pytest.raises(TokenError):
            verifier.verify(token)
    assert verifier.verify(good).user_id == "u-school"


def test_a_remembered_token_of_a_withdrawn_key_is_refused(keys):
    verifier = TokenVerifier(KeySet(keys.jwks, min_refetch=0), AUDIENCE)
    old = keys.token(SCHOOL_USER, kid="k1")
    verifier.verify(old)
    keys.private["k2"] = keys.private.pop("k1")  # k1 withdrawn: the JWKS publishes k2 only
    assert verifier.verify(keys.token(SCHOOL_USER, kid="k2")).user_id == "u-school"  # refetches the JWKS
    with pytest.raises(TokenError) as caught:
        verifier.verify(old)
    assert caught.value.reason == "unknown_key"


def test_a_refetched_key_checks_remembered_tokens_again(keys, monkeypatch):
    key_set = KeySet(keys.jwks, max_age=0)  # every look-up refetches: new key objects each time
    verifier = TokenVerifier(key_set, AUDIENCE)
    decoded = _counting_decode(monkeypatch)
    token = keys.token(SCHOOL_USER)
    verifier.verify(token)
    verifier.verify(token)
    assert len(decoded) == 2


def test_remembered_tokens_are_bounded(keys, monkeypatch):
    verifier = TokenVerifier(KeySet(keys.jwks), AUDIENCE, remembered=3)
    decoded = _counting_decode(monkeypatch)
    tokens = [keys.token(Principal(user_id=f"u{i}", role=Role.GRADUATE, scope=Scope(graduate=f"g{i}")))
              for i in range(10)]
    for token in tokens + tokens:
        verifier.verify(token)
    assert [verifier.verify(t).user_id for t in tokens] == [f"u{i}" for i in range(10)]
    assert len(verifier._accepted) <= 3
    assert len(decoded) > 10  # forgotten ones were checked again


# -- the rules on a service ------------------------------------------------------------------

SCHOOLS = {"10558": Scope(province="44", school="10558"), "10001": Scope(province="11", school="10001")}


class NoteIn(marshmallow.Schema):
    text = marshmallow.fields.String(required=True)


def make_blueprint():
    blp = Blueprint("things", __name__, url_prefix="/things")

    @blp.route("/open")
    @public
    def open_view():
        return {"ok": True}

    @blp.route("/archive", methods=["POST"])
    @requires(Role.SCHOOL, Role.DEPARTMENT, module=Module.ARCHIVE, access=Access.WRITE)
    def write_archive():
        return {"ok": True}

    @blp.route("/employment")
    @requires(Role.SCHOOL, module=Module.EMPLOYMENT, access=Access.READ)
    def read_employment():
        return {"user": current_principal().user_id}

    @blp.route("/notes", methods=["POST"])
    @blp.arguments(NoteIn)
    @requires(Role.SCHOOL, module=Module.EMPLOYMENT, access=Access.WRITE)
    def post_note(body):
        return {"text": body["text"]}

    @blp.route("/schools/<school>")
    class SchoolView(MethodView):
        @requires(Role.PROVINCE, Role.SCHOOL)
        def get(self, school):
            if school not in SCHOOLS:
                return {"code": "not_found"}, 404
            ensure_visible(SCHOOLS[school])
            return {"school": school}

        @requires(Role.PROVINCE)
        def put(self, school):
            ensure_allowed(SCHOOLS.get(school, Scope()))
            return {"school": school}

    return blp


@pytest.fixture
def service(keys, embedded_config):
    engine = make_engine(embedded_config.database_url)
    auth_metadata.create_all(engine)
    app = build_app("testsvc", embedded_config, blueprints=[make_blueprint()], engine=engine,
                    keys=KeySet(keys.jwks), configure_logs=False)
    return app.test_client(), engine


def call(client, method, path, token=None):
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return client.open(path, method=method, headers=headers)


def test_missing_and_bad_tokens_are_401_with_a_reason(service, keys):
    client, _ = service
    missing = call(client, "GET", "/things/employment")
    assert missing.status_code == 401 and missing.json["code"] == "missing_token"
    assert missing.headers["WWW-Authenticate"].startswith("Bearer")
    bad = call(client, "GET", "/things/employment", "abc")
    assert bad.status_code == 401 and bad.json["code"] == "malformed_token"
    assert bad.json["detail"] == "登录令牌无法解析，请重新登录"  # users read it
    assert call(client, "GET", "/things/open").status_code == 200


def test_refused_tokens_are_counted_by_reason(service, keys):
    """What tells a key rotation that missed a service (unknown_key) from expired sessions."""
    from prometheus_client import REGISTRY

    def refused(reason):
        return REGISTRY.get_sample_value("qx_auth_token_refusals_total", {"reason": reason}) or 0

    client, _ = service
    before = refused("malformed_token")
    assert call(client, "GET", "/things/employment", "abc").status_code == 401
    assert refused("malformed_token") == before + 1
    assert call(client, "GET", "/things/employment").status_code == 401  # no token: not a refused token
    assert refused("malformed_token") == before + 1


def test_roles_and_module_permissions(service, keys):
    client, _ = service
    school, province = keys.token(SCHOOL_USER), keys.token(PROVINCE_USER)
    assert call(client, "GET", "/things/employment", school).json == {"user": "u-school"}
    denied_role = call(client, "GET", "/things/employment", province)
    assert denied_role.status_code == 403 and denied_role.json["code"] == "role_forbidden"
    read_only = call(client, "POST", "/things/archive", school)
    assert read_only.status_code == 403 and read_only.json["code"] == "module_forbidden"
    assert read_only.json["module"] == "archive" and read_only.json["needed"] == "write"
    # the module as 账号管理 names it, not its identifier, and whom to ask
    assert read_only.json["detail"] == "您的账号没有“档案信息”模块的读写权限，请联系学校（或省级）管理员开通"
    writer = Principal("u-w", Role.SCHOOL, SCHOOL_USER.scope, {Module.ARCHIVE: Access.WRITE})
    assert call(client, "POST", "/things/archive", keys.token(writer)).status_code == 200


def test_who_may_call_is_decided_before_the_body_is_parsed(service, keys):
    client, _ = service
    for body in ({}, {"text": 1}, {"text": "ok", "status": "approved"}):
        anonymous = client.post("/things/notes", json=body)
        assert anonymous.status_code == 401, "an anonymous caller learns nothing about the body"
        province = {"Authorization": f"Bearer {keys.token(PROVINCE_USER)}"}
        denied = client.post("/things/notes", json=body, headers=province)
        assert denied.status_code == 403 and denied.json["code"] == "role_forbidden"
    school = {"Authorization": f"Bearer {keys.token(SCHOOL_USER)}"}
    assert client.post("/things/notes", json={}, headers=school).status_code == 422
    assert client.post("/things/notes", json={"text": "ok"}, headers=school).json == {"text": "ok"}


def test_other_scopes_are_404_for_objects_and_403_for_actions(service, keys):
    client, _ = service
    province, school = keys.token(PROVINCE_USER), keys.token(SCHOOL_USER)
    assert call(client, "GET", "/things/schools/10558", province).status_code == 200
    assert call(client, "GET", "/things/schools/10558", school).status_code == 200
    hidden = call(client, "GET", "/things/schools/10001", province)
    assert hidden.status_code == 404 and hidden.json["code"] == "not_found"
    assert hidden.json["detail"] == "记录不存在，或不在您的管理范围内，请返回列表重新查询"
    assert call(client, "GET", "/things/schools/10001", school).status_code == 404
    assert call(client, "PUT", "/things/schools/10558", province).status_code == 200
    refused = call(client, "PUT", "/things/schools/10001", province)
    assert refused.status_code == 403 and refused.json["code"] == "out_of_scope"


def test_revocation_voids_older_tokens_only(service, keys, embedded_config):
    client, engine = service
    old = keys.token(SCHOOL_USER, now=time.time() - 10)
    assert call(client, "GET", "/things/employment", old).status_code == 200
    event = catalogue.new_event(TOKENS_REVOKED, subject="u-school", sequence=1, producer="accounts",
                                data={"user_id": "u-school", "not_before": time.time() - 5, "reason": "logout"})
    with UnitOfWork(make_session_factory(engine), "testsvc", 1) as uow:
        on_tokens_revoked(event, uow)
        uow.commit()
    time.sleep(1.1)  # the revocation list answers from a read up to a second old
    revoked = call(client, "GET", "/things/employment", old)
    assert revoked.status_code == 401 and revoked.json["code"] == "token_revoked"
    assert call(client, "GET", "/things/employment", keys.token(SCHOOL_USER)).status_code == 200
    earlier = catalogue.new_event(TOKENS_REVOKED, subject="u-school", sequence=1, producer="accounts",
                                  data={"user_id": "u-school", "not_before": 1.0, "reason": "logout"})
    with UnitOfWork(make_session_factory(engine), "testsvc", 1) as uow:
        on_tokens_revoked(earlier, uow)  # out of order: must not move the time back
        uow.commit()
    time.sleep(1.1)
    assert call(client, "GET", "/things/employment", old).status_code == 401


def test_an_endpoint_without_a_rule_stops_the_app(keys, embedded_config):
    blp = Blueprint("loose", __name__)

    @blp.route("/loose")
    def loose():
        return {}

    @blp.route("/half")
    class Half(MethodView):
        @requires(Role.ADMIN)
        def get(self):
            return {}

        def delete(self):
            return {}

    with pytest.raises(RuntimeError) as caught:
        build_app("testsvc", embedded_config, blueprints=[blp], keys=KeySet(keys.jwks), configure_logs=False)
    assert "loose.loose" in str(caught.value) and "loose.Half DELETE" in str(caught.value)
    assert "GET" not in str(caught.value)
    with pytest.raises(ValueError, match="at least one role"):
        requires()


def test_every_service_says_who_the_caller_is(service, keys):
    client, _ = service
    assert call(client, "GET", "/whoami").status_code == 401
    me = call(client, "GET", "/whoami", keys.token(SCHOOL_USER)).json
    assert me == {"user_id": "u-school", "role": "school", "role_label": "学校用户",
                  "scope": {"province": "44", "school": "10558"},
                  "permissions": {"employment": "write", "archive": "read", "hukou": "none"}}


def test_whoami_is_documented_with_what_it_answers(service):
    client, _ = service
    spec = client.get("/openapi.json").json
    ok = spec["paths"]["/whoami"]["get"]["responses"]["200"]["content"]["application/json"]["schema"]
    name = ok["$ref"].split("/")[-1]
    assert set(spec["components"]["schemas"][name]["properties"]) == {"user_id", "role", "role_label", "scope",
                                                                      "permissions"}


def test_keys_that_cannot_be_loaded_are_a_503_not_a_refused_token(keys, embedded_config):
    """accounts unreachable before this service ever loaded its keys: a valid token is not the
    caller's fault, so the answer says try again (503), not log in again (401)."""
    def unreachable() -> dict:
        raise OSError("connection refused")

    engine = make_engine(embedded_config.database_url)
    auth_metadata.create_all(engine)
    client = build_app("testsvc", embedded_config, blueprints=[make_blueprint()], engine=engine,
                       keys=KeySet(unreachable, min_refetch=0), configure_logs=False).test_client()
    answer = call(client, "GET", "/things/employment", keys.token(SCHOOL_USER))
    assert answer.status_code == 503 and answer.json["code"] == "keys_unavailable"
    assert answer.headers["Retry-After"] == "5"
    assert call(client, "GET", "/things/open").status_code == 200


def test_a_failed_refresh_of_cached_keys_is_logged(caplog):
    """The cached keys go on serving, but a key rotated meanwhile is refused until a refresh works:
    the failure is logged (a rotation that never reaches a service is otherwise silent)."""
    import logging

    from quxiang.common.auth.tokens import KeySet, TokenError

    answers = [{"keys": []}]

    def loader() -> dict:
        if answers:
            return answers.pop()
        raise OSError("accounts away")

    keyset = KeySet(loader, min_refetch=0)
    with pytest.raises(TokenError):
        keyset.get("first")  # loaded (no such key), nothing logged
    keyset._keys = {"cached": object()}  # one key cached from an earlier load
    with caplog.at_level(logging.WARNING, logger="quxiang.common.auth.tokens"):
        with pytest.raises(TokenError):
            keyset.get("rotated")
    assert any("cannot refresh the signing keys" in r.getMessage() and "accounts away" in r.getMessage()
               for r in caplog.records)

"""Bearer token edge cases, the JWKS, and the access token's claims."""

import json
import time
import uuid

import pytest

from helpers import (ACCESS_TTL, UUID_RE, assert_unauthorized,
                     b64url_decode, b64url_encode, describe, ec_jwk_to_pem,
                     hs256, jwt_decode, jwt_make, jwt_verify_with_jwk,
                     media_type)

ME = "/v1/me"


def jwks(api):
    r = api.get("/.well-known/jwks.json")
    assert r.status_code == 200, describe(r)
    assert media_type(r) in ("application/json", "application/jwk-set+json")
    body = r.json()
    assert isinstance(body.get("keys"), list) and body["keys"], body
    return body["keys"]


def tamper(token, **claims):
    """Same header and signature, payload changed."""
    h, p, s = token.split(".")
    _, payload, _ = jwt_decode(token)
    payload.update(claims)
    return "%s.%s.%s" % (h, b64url_encode(json.dumps(
        payload, separators=(",", ":"))), s)


# -------------------------------------------------- bearer edge cases

def _bad_headers(token):
    h, p, s = token.split(".")
    header, payload, _ = jwt_decode(token)
    kid = header["kid"]
    flipped = bytearray(b64url_decode(p))
    flipped[len(flipped) // 2] ^= 0x01
    sig = bytearray(b64url_decode(s))
    sig[-1] ^= 0x01
    cases = {
        "missing": None,
        "empty": "",
        "scheme-only": "Bearer",
        "scheme-space": "Bearer ",
        "garbage": "Bearer garbage",
        "three-dots": "Bearer ...",
        "two-parts": "Bearer %s.%s" % (h, p),
        "basic": "Basic " + b64url_encode(b"user:pass"),
        "no-scheme": token,
        "token-twice": "Bearer %s %s" % (token, token),
        "alg-none": "Bearer " + jwt_make(
            {"alg": "none", "typ": "JWT", "kid": kid}, payload),
        "alg-None": "Bearer " + jwt_make(
            {"alg": "None", "typ": "JWT", "kid": kid}, payload),
        "alg-NONE-sig-kept": "Bearer " + jwt_make(
            {"alg": "NONE", "typ": "JWT", "kid": kid}, payload,
            b64url_decode(s)),
        "alg-none-no-kid": "Bearer " + jwt_make(
            {"alg": "none", "typ": "JWT"}, payload),
        "payload-byte-flipped": "Bearer %s.%s.%s" % (
            h, b64url_encode(bytes(flipped)), s),
        "signature-bit-flipped": "Bearer %s.%s.%s" % (
            h, p, b64url_encode(bytes(sig))),
        "signature-stripped": "Bearer %s.%s." % (h, p),
        "role-admin": "Bearer " + tamper(token, role="admin"),
        "expired-looking": "Bearer " + tamper(
            token, iat=int(time.time()) - 7200, exp=int(time.time()) - 3600),
        "far-future-exp": "Bearer " + tamper(
            token, exp=int(time.time()) + 10 * 365 * 86400),
        "other-sub": "Bearer " + tamper(token, sub=str(uuid.uuid4())),
        "unknown-kid": "Bearer " + jwt_make(
            dict(header, kid="nope-" + kid), payload, b64url_decode(s)),
        "5kb": "Bearer " + token + "A" * (5120 - len(token)),
        "5kb-payload": "Bearer %s.%s.%s" % (
            h, b64url_encode(b'{"pad":"' + b"x" * 5000 + b'"}'), s),
        "lowercase-garbage": "bearer xyz",
    }
    return cases


BAD_NAMES = sorted(_bad_headers(
    jwt_make({"alg": "ES256", "kid": "k"}, {"sub": "x"}, b"s")).keys())


@pytest.mark.parametrize("name", BAD_NAMES)
def test_bearer_rejected(api, new_user, name):
    u = new_user()
    auth = _bad_headers(u["access_token"])[name]
    headers = {} if auth is None else {"Authorization": auth}
    r = api.get(ME, headers=headers)
    body = assert_unauthorized(r)
    assert u["user"]["id"] not in r.text
    assert u["email"] not in r.text
    assert body["code"] == "unauthorized"


def test_bearer_hs256_with_public_key_pem(api, new_user):
    """Key confusion: HS256 keyed with the published EC key's PEM."""
    u = new_user()
    header, payload, _ = jwt_decode(u["access_token"])
    key = [k for k in jwks(api) if k["kid"] == header["kid"]][0]
    if key["kty"] != "EC":
        pytest.skip("signing key is %s" % key["kty"])
    pem = ec_jwk_to_pem(key)
    for secret in (pem, pem.rstrip("\n"), pem.encode()):
        h = dict(header, alg="HS256")
        unsigned = jwt_make(h, payload).rstrip(".")
        forged = unsigned + "." + b64url_encode(hs256(unsigned, secret))
        assert_unauthorized(api.get(ME, token=forged))


def test_bearer_other_methods_on_header(api, new_user):
    """The token is read from Authorization only, not from the query or
    a cookie."""
    u = new_user()
    t = u["access_token"]
    assert_unauthorized(api.get(ME + "?access_token=" + t))
    assert_unauthorized(api.get(ME, headers={"Cookie": "access_token=" + t}))
    assert_unauthorized(api.get(ME, headers={"X-Access-Token": t}))


def test_refresh_token_is_not_a_bearer(api, new_user):
    u = new_user()
    assert_unauthorized(api.get(ME, token=u["refresh_token"]))


def test_valid_token_works(api, new_user):
    u = new_user()
    r = api.get(ME, token=u["access_token"])
    assert r.status_code == 200, describe(r)
    assert r.json()["id"] == u["user"]["id"]


# ----------------------------------------------------------------- JWKS

def test_jwks_shape(api):
    r = api.get("/.well-known/jwks.json")
    assert r.status_code == 200, describe(r)
    keys = jwks(api)
    kids = set()
    for k in keys:
        assert isinstance(k.get("kid"), str) and k["kid"], k
        assert k["kid"] not in kids, "duplicate kid"
        kids.add(k["kid"])
        assert k.get("kty") in ("EC", "RSA"), k
        assert k.get("use") == "sig", k
        if k["kty"] == "EC":
            assert k.get("alg") == "ES256" and k.get("crv") == "P-256", k
            assert len(b64url_decode(k["x"])) == 32
            assert len(b64url_decode(k["y"])) == 32
        else:
            assert k.get("alg") == "RS256", k
            assert len(b64url_decode(k["n"])) >= 256  # >= 2048 bits
            assert k.get("e")
        private = {"d", "p", "q", "dp", "dq", "qi", "k", "oth"} & set(k)
        assert not private, "private JWK members %s" % sorted(private)
    assert "PRIVATE" not in r.text


def test_access_token_kid_in_jwks_and_signature_verifies(api, new_user):
    u = new_user()
    header, _, _ = jwt_decode(u["access_token"])
    keys = {k["kid"]: k for k in jwks(api)}
    assert header.get("kid") in keys, (header, sorted(keys))
    key = keys[header["kid"]]
    assert header["alg"] == key["alg"]
    assert jwt_verify_with_jwk(u["access_token"], key), \
        "access token does not verify with its JWKS key"
    # and a tampered one does not
    assert not jwt_verify_with_jwk(tamper(u["access_token"], role="admin"),
                                   key)


def test_jwks_wrong_method(api):
    r = api.post("/.well-known/jwks.json", json={})
    assert r.status_code == 405, describe(r)
    assert "GET" in r.headers.get("Allow", "")


# --------------------------------------------------------------- claims

def test_access_token_claims(api, new_user):
    before = int(time.time())
    u = new_user()
    after = int(time.time())
    header, c, sig = jwt_decode(u["access_token"])
    assert header.get("alg") in ("ES256", "RS256"), header
    assert header.get("typ", "JWT") == "JWT"
    assert sig
    for k in ("iss", "aud", "sub", "sid", "role", "email", "iat", "exp",
              "jti"):
        assert k in c, "claim %s missing: %r" % (k, c)
    assert isinstance(c["iss"], str) and c["iss"]
    assert isinstance(c["aud"], (str, list)) and c["aud"]
    assert c["sub"] == u["user"]["id"]
    assert UUID_RE.match(c["sid"]), c
    assert c["role"] == "user"
    assert c["email"].lower() == u["email"].lower()
    assert isinstance(c["iat"], int) and isinstance(c["exp"], int)
    assert before - 5 <= c["iat"] <= after + 5, (before, c["iat"], after)
    assert c["exp"] - c["iat"] == u["expires_in"] == ACCESS_TTL
    assert isinstance(c["jti"], str) and len(c["jti"]) >= 16
    if "nbf" in c:
        assert c["nbf"] <= c["iat"] + 1
    for secret in ("password", "pw", "hash", "refresh_token"):
        assert secret not in c
    assert u["password"] not in u["access_token"]


def test_access_token_claims_unique_per_token(api, new_user, login):
    u = new_user()
    p = login(u["email"], u["password"]).json()
    _, c1, _ = jwt_decode(u["access_token"])
    _, c2, _ = jwt_decode(p["access_token"])
    assert c1["jti"] != c2["jti"]
    assert c1["sid"] != c2["sid"]
    assert c1["sub"] == c2["sub"]
    assert c1["iss"] == c2["iss"] and c1["aud"] == c2["aud"]


def test_access_token_matches_config(api, new_user, config_env):
    u = new_user()
    _, c, _ = jwt_decode(u["access_token"])
    assert c["iss"] == config_env.get("USHER_ISSUER", "usher")
    aud = c["aud"] if isinstance(c["aud"], list) else [c["aud"]]
    assert config_env.get("USHER_AUDIENCE", "usher") in aud

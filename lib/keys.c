/* keys.c -- signing keys: stored in PostgreSQL, cached per process, rotated */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <json-c/json.h>

#include "cfg.h"
#include "db.h"
#include "keys.h"
#include "limits.h"
#include "log.h"
#include "rnd.h"
#include "xmalloc.h"

enum kstmt {
	K_LOAD, K_INSERT, K_HAS_CURRENT, K_DEMOTE, K_PROMOTE, K_NEWEST_NEXT,
	K_RETIRE, K_LIST, K__MAX
};

static struct db_stmt kstmts[K__MAX] = {
	[K_LOAD] = { "keys_load",
	    "SELECT kid, alg, private_pem, public_pem, state = 'current' "
	    "FROM signing_keys WHERE state <> 'retired' "
	    "ORDER BY state = 'current', created_at LIMIT 16", 0, 0 },
	[K_INSERT] = { "keys_insert",
	    "INSERT INTO signing_keys (kid, alg, private_pem, public_pem, state, "
	    "activated_at) VALUES ($1, $2, $3, $4, $5, "
	    "CASE WHEN $5 = 'current' THEN now() END)", 5, 0 },
	[K_HAS_CURRENT] = { "keys_has_current",
	    "SELECT count(*) FROM signing_keys WHERE state = 'current'", 0, 0 },
	[K_DEMOTE] = { "keys_demote",
	    "UPDATE signing_keys SET state = 'previous' WHERE state = 'current'",
	    0, 0 },
	[K_PROMOTE] = { "keys_promote",
	    "UPDATE signing_keys SET state = 'current', activated_at = now() "
	    "WHERE kid = $1 AND state = 'next'", 1, 0 },
	[K_NEWEST_NEXT] = { "keys_newest_next",
	    "SELECT kid FROM signing_keys WHERE state = 'next' "
	    "ORDER BY created_at DESC LIMIT 1 FOR UPDATE", 0, 0 },
	[K_RETIRE] = { "keys_retire",
	    "UPDATE signing_keys SET state = 'retired', retired_at = now() "
	    "WHERE kid = $1 AND state IN ('next', 'previous') RETURNING kid", 1, 0 },
	[K_LIST] = { "keys_list",
	    "SELECT kid, alg, state, usher_ts(created_at), "
	    "usher_ts(activated_at), usher_ts(retired_at) FROM signing_keys "
	    "ORDER BY created_at", 0, 0 },
};

static struct tok_keyset	*keyset;
static time_t			 loaded_at;

/*
 * Access tokens already verified, by SHA-256 of the token: a client sends
 * the same token for up to access_ttl seconds, and a signature check costs
 * far more than the digest. Entries end with the token's exp and whenever
 * the key set is reloaded (so a retired key stops working within
 * LIM_KEY_RELOAD seconds). Session revocation is still checked in the
 * database on every request.
 */
struct verified {
	unsigned char		 digest[32];
	struct tok_claims	 claims;
	int			 used;
};
static struct verified		 vcache[LIM_VERIFY_CACHE];

static void
hs256_key(struct tok_keyset *ks)
{
	unsigned char	d[32];
	char		hex[13], kid[32];

	sha256(cfg.jwt_secret, strlen(cfg.jwt_secret), d);
	hex_encode(d, 6, hex);
	snprintf(kid, sizeof(kid), "hs256-%s", hex);
	(void)tok_keyset_add(ks, kid, TOK_HS256, cfg.jwt_secret,
	    strlen(cfg.jwt_secret), 1);
}

static enum usher_err
load(void)
{
	struct tok_keyset	*ks;
	PGresult		*res;
	enum usher_err		 rc;
	int			 i, cur;
	const char		*pem;

	if ((rc = db_exec(&kstmts[K_LOAD], NULL, &res)) != USHER_OK)
		return rc;
	ks = tok_keyset_new();
	for (i = 0; i < PQntuples(res); i++) {
		cur = strcmp(PQgetvalue(res, i, 4), "t") == 0 &&
		    cfg.jwt_alg != CFG_ALG_HS256;
		pem = PQgetvalue(res, i, cur ? 2 : 3);
		if (tok_keyset_add(ks, PQgetvalue(res, i, 0),
		    tok_alg_parse(PQgetvalue(res, i, 1)), pem, strlen(pem),
		    cur) != USHER_OK)
			log_error("signing key %s unusable",
			    PQgetvalue(res, i, 0));
	}
	PQclear(res);
	if (cfg.jwt_alg == CFG_ALG_HS256)
		hs256_key(ks);
	tok_keyset_free(keyset);
	keyset = ks;
	loaded_at = time(NULL);
	explicit_bzero(vcache, sizeof(vcache));
	return USHER_OK;
}

/* The key set, reloaded every LIM_KEY_RELOAD seconds; stale on failure. */
static const struct tok_keyset *
current(void)
{
	if (keyset == NULL || time(NULL) - loaded_at >= LIM_KEY_RELOAD)
		if (load() != USHER_OK && keyset != NULL)
			loaded_at = time(NULL);
	return keyset;
}

/*
 * Refuse to start without a key that can sign, when the database can tell;
 * an unreachable database is not fatal (requests get 503 until it is back).
 */
enum usher_err
keys_init(void)
{
	PGresult	*res;
	enum usher_err	 rc;
	int		 n;

	if (cfg.jwt_alg != CFG_ALG_HS256) {
		rc = db_exec(&kstmts[K_HAS_CURRENT], NULL, &res);
		if (rc == USHER_ERR_UNAVAILABLE)
			return USHER_OK;
		if (rc != USHER_OK)
			return rc;
		n = strcmp(PQgetvalue(res, 0, 0), "0") != 0;
		PQclear(res);
		if (!n) {
			log_error("no current signing key: run "
			    "`usherctl keys generate`");
			return USHER_ERR_CONFIG;
		}
	}
	rc = load();
	return rc == USHER_ERR_UNAVAILABLE ? USHER_OK : rc;
}

void
keys_free(void)
{
	tok_keyset_free(keyset);
	keyset = NULL;
}

enum usher_err
keys_sign(const struct tok_claims *c, char **jwt)
{
	const struct tok_keyset	*ks = current();

	if (ks == NULL)
		return USHER_ERR_UNAVAILABLE;
	return tok_sign(ks, cfg.issuer, cfg.audience, c, jwt);
}

enum usher_err
keys_verify(const char *jwt, struct tok_claims *c)
{
	const struct tok_keyset	*ks = current();
	struct verified		*v;
	unsigned char		 d[32];
	int64_t			 now = (int64_t)time(NULL);
	size_t			 len = strlen(jwt);
	enum usher_err		 rc;

	if (ks == NULL)
		return USHER_ERR_UNAVAILABLE;
	if (len > LIM_JWT_LEN)
		return USHER_ERR_BAD_TOKEN;
	sha256(jwt, len, d);
	v = &vcache[(d[0] | (size_t)d[1] << 8) % LIM_VERIFY_CACHE];
	if (v->used && ct_equal(v->digest, d, sizeof(d)) &&
	    v->claims.exp > now) {
		*c = v->claims;
		return USHER_OK;
	}
	if ((rc = tok_verify(ks, jwt, cfg.issuer, cfg.audience, now, c)) !=
	    USHER_OK)
		return rc;
	memcpy(v->digest, d, sizeof(d));
	v->claims = *c;
	v->used = 1;
	return USHER_OK;
}

struct json_object *
keys_jwks(void)
{
	const struct tok_keyset	*ks = current();

	if (ks == NULL)
		return NULL;
	return tok_jwks(ks);
}

static void
new_kid(char kid[65])
{
	unsigned char	raw[12];
	char		*enc;

	if (rnd_bytes(raw, sizeof(raw)) != USHER_OK)
		abort();	/* fail closed: no predictable key ids */
	enc = b64url_encode(raw, sizeof(raw));
	snprintf(kid, 65, "%s", enc);
	free(enc);
}

enum usher_err
keys_generate(enum tok_alg alg, char kid[65], int *iscur)
{
	char		*priv = NULL, *pub = NULL;
	const char	*p[5];
	PGresult	*res = NULL;
	enum usher_err	 rc;

	if (alg != TOK_ES256 && alg != TOK_RS256)
		return USHER_ERR_INVALID;
	if ((rc = tok_key_generate(alg, &priv, &pub)) != USHER_OK)
		return rc;
	new_kid(kid);
	if ((rc = db_begin()) != USHER_OK)
		goto out;
	if ((rc = db_exec(&kstmts[K_HAS_CURRENT], NULL, &res)) != USHER_OK)
		goto out;
	*iscur = strcmp(PQgetvalue(res, 0, 0), "0") == 0;
	p[0] = kid;
	p[1] = tok_alg_name(alg);
	p[2] = priv;
	p[3] = pub;
	p[4] = *iscur ? "current" : "next";
	if ((rc = db_exec(&kstmts[K_INSERT], p, NULL)) != USHER_OK)
		goto out;
	rc = db_commit();
out:
	if (rc != USHER_OK)
		db_rollback();
	PQclear(res);
	if (priv != NULL) {
		explicit_bzero(priv, strlen(priv));
		free(priv);
	}
	free(pub);
	return rc;
}

/* Promote the newest `next` key (generated now if none) to current. */
enum usher_err
keys_rotate(char kid[65])
{
	PGresult	*res = NULL;
	const char	*p[1];
	enum usher_err	 rc;
	int		 cur;

	if ((rc = db_exec(&kstmts[K_NEWEST_NEXT], NULL, &res)) != USHER_OK)
		return rc;
	if (PQntuples(res) == 0) {
		PQclear(res);
		res = NULL;
		if ((rc = keys_generate(cfg.jwt_alg == CFG_ALG_RS256 ?
		    TOK_RS256 : TOK_ES256, kid, &cur)) != USHER_OK || cur)
			return rc;
	} else
		snprintf(kid, 65, "%s", PQgetvalue(res, 0, 0));
	PQclear(res);
	if ((rc = db_begin()) != USHER_OK)
		return rc;
	p[0] = kid;
	if ((rc = db_exec(&kstmts[K_DEMOTE], NULL, NULL)) != USHER_OK ||
	    (rc = db_exec(&kstmts[K_PROMOTE], p, NULL)) != USHER_OK ||
	    (rc = db_commit()) != USHER_OK)
		db_rollback();
	return rc;
}

enum usher_err
keys_retire(const char *kid)
{
	const char	*p[1] = { kid };

	return db_exec_found(&kstmts[K_RETIRE], p);
}

static struct json_object *
col(PGresult *res, int i, int c)
{
	return PQgetisnull(res, i, c) ? NULL :
	    json_object_new_string(PQgetvalue(res, i, c));
}

enum usher_err
keys_list(struct json_object **out)
{
	static const char *const names[] = {
		"kid", "alg", "state", "created_at", "activated_at", "retired_at"
	};
	PGresult		*res;
	struct json_object	*a, *o;
	enum usher_err		 rc;
	int			 i, c;

	if ((rc = db_exec(&kstmts[K_LIST], NULL, &res)) != USHER_OK)
		return rc;
	a = json_object_new_array();
	for (i = 0; i < PQntuples(res); i++) {
		o = json_object_new_object();
		for (c = 0; c < 6; c++)
			json_object_object_add(o, names[c], col(res, i, c));
		json_object_array_add(a, o);
	}
	PQclear(res);
	*out = a;
	return USHER_OK;
}

/* sess.c -- sessions and refresh tokens: rotation, grace, reuse detection */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "cfg.h"
#include "db.h"
#include "keys.h"
#include "log.h"
#include "rnd.h"
#include "sess.h"
#include "throttle.h"
#include "user.h"
#include "valid.h"
#include "xmalloc.h"

#define GCM_NONCE	12
#define GCM_TAG		16
#define GRACE_MAX	(LIM_JWT_LEN + LIM_REFRESH_TOKEN + 2)

enum sstmt {
	S_CREATE, S_PEEK, S_ROTATE, S_HISTORY, S_PRINCIPAL, S_REVOKE,
	S_REVOKE_ALL, S_REVOKE_ID, S_LIST, S__MAX
};

static struct db_stmt sstmts[S__MAX] = {
	[S_CREATE] = { "sess_create",
	    "INSERT INTO sessions (user_id, refresh_hash, expires_at, user_agent, ip) "
	    "VALUES ($1, $2::bytea, now() + make_interval(secs => $3::int), $4, $5::inet) "
	    "RETURNING id", 5, 0 },
	/* the live session a refresh token opens, read without a lock */
	[S_PEEK] = { "sess_peek",
	    "SELECT s.id, " USER_COLS " FROM sessions s JOIN users u "
	    "ON u.id = s.user_id WHERE s.refresh_hash = $1::bytea "
	    "AND s.revoked_at IS NULL AND s.expires_at > now()", 1, 0 },
	/*
	 * One atomic statement: count the session's refresh, and unless that
	 * is over its limit or another refresh moved the session on since
	 * S_PEEK (the row lock serializes them; the loser finds no row),
	 * move the session to the new token and remember the old one with
	 * the sealed pair for the grace period. Its commit does not wait for
	 * the WAL flush (set_config local to this statement's transaction):
	 * a crash may lose the last rotations, whose clients then log in
	 * again; a revocation for reuse (S_REVOKE) stays durable.
	 */
	[S_ROTATE] = { "sess_rotate",
	    "WITH a AS (SELECT set_config('synchronous_commit', 'off', true)), "
	    "t AS (SELECT hits, retry FROM usher_throttle_hit($6, $7::int) "
	    "  WHERE $8::int > 0), "
	    "cur AS (SELECT id FROM sessions WHERE id = $1::uuid "
	    "  AND refresh_hash = $2::bytea AND revoked_at IS NULL "
	    "  AND expires_at > now() AND ($8::int = 0 OR "
	    "  (SELECT hits FROM t) <= $8::int) FOR UPDATE), "
	    "upd AS (UPDATE sessions s SET refresh_hash = $3::bytea, "
	    "  last_used_at = now(), "
	    "  expires_at = now() + make_interval(secs => $4::int) "
	    "  FROM cur WHERE s.id = cur.id RETURNING s.id), "
	    "ins AS (INSERT INTO refresh_tokens (hash, session_id, successor, "
	    "  grace_blob) SELECT $2::bytea, id, $3::bytea, $5::bytea FROM upd "
	    "  RETURNING session_id) "
	    "SELECT (SELECT count(*) FROM ins), (SELECT hits FROM t), "
	    "(SELECT retry FROM t), (SELECT count(*) FROM a)", 8, 0 },
	[S_HISTORY] = { "sess_history",
	    "SELECT s.id, r.grace_blob, "
	    "  r.rotated_at > now() - make_interval(secs => $2::int), "
	    "  s.refresh_hash = r.successor, s.revoked_at IS NULL, " USER_COLS
	    " FROM refresh_tokens r JOIN sessions s ON s.id = r.session_id "
	    "JOIN users u ON u.id = s.user_id WHERE r.hash = $1::bytea", 2, 0 },
	[S_PRINCIPAL] = { "sess_principal",
	    "SELECT " USER_COLS " FROM sessions s JOIN users u ON u.id = s.user_id "
	    "WHERE s.id = $1 AND s.user_id = $2 AND s.revoked_at IS NULL "
	    "AND s.expires_at > now()", 2, 0 },
	[S_REVOKE] = { "sess_revoke",
	    "UPDATE sessions SET revoked_at = now(), revoke_reason = $3 "
	    "WHERE id = $2 AND user_id = $1 AND revoked_at IS NULL RETURNING id",
	    3, 0 },
	[S_REVOKE_ALL] = { "sess_revoke_all",
	    "UPDATE sessions SET revoked_at = now(), revoke_reason = $3 "
	    "WHERE user_id = $1 AND revoked_at IS NULL "
	    "AND ($2::uuid IS NULL OR id <> $2::uuid)", 3, 0 },
	[S_REVOKE_ID] = { "sess_revoke_id",
	    "UPDATE sessions SET revoked_at = now(), revoke_reason = $2 "
	    "WHERE id = $1::uuid AND revoked_at IS NULL RETURNING id", 2, 0 },
	[S_LIST] = { "sess_list",
	    "SELECT id, usher_ts(created_at), usher_ts(last_used_at), user_agent, "
	    "host(ip) FROM sessions WHERE user_id = $1 AND revoked_at IS NULL "
	    "AND expires_at > now() ORDER BY created_at DESC, id LIMIT $2::int", 2, 0 },
};

void
sess_pair_clear(struct tokpair *p)
{
	if (p->access != NULL) {
		explicit_bzero(p->access, strlen(p->access));
		free(p->access);
	}
	if (p->refresh != NULL) {
		explicit_bzero(p->refresh, strlen(p->refresh));
		free(p->refresh);
	}
	memset(p, 0, sizeof(*p));
}

struct json_object *
sess_pair_json(const struct tokpair *p, const struct user *u)
{
	struct json_object	*o = json_object_new_object();

	json_object_object_add(o, "access_token",
	    json_object_new_string(p->access));
	json_object_object_add(o, "token_type", json_object_new_string("Bearer"));
	json_object_object_add(o, "expires_in",
	    json_object_new_int64(cfg.access_ttl));
	json_object_object_add(o, "refresh_token",
	    json_object_new_string(p->refresh));
	json_object_object_add(o, "refresh_expires_in",
	    json_object_new_int64(cfg.refresh_ttl));
	json_object_object_add(o, "user", user_json(u));
	return o;
}

static enum usher_err
new_refresh(char **tok)
{
	unsigned char	raw[LIM_REFRESH_BYTES];

	if (rnd_bytes(raw, sizeof(raw)) != USHER_OK)
		return USHER_ERR_INTERNAL;
	*tok = b64url_encode(raw, sizeof(raw));
	explicit_bzero(raw, sizeof(raw));
	return USHER_OK;
}

static enum usher_err
sign_access(const struct user *u, const char *sid, char **jwt)
{
	struct tok_claims	c;

	memset(&c, 0, sizeof(c));
	snprintf(c.sub, sizeof(c.sub), "%s", u->id);
	snprintf(c.sid, sizeof(c.sid), "%s", sid);
	snprintf(c.role, sizeof(c.role), "%s", role_name(u->role));
	snprintf(c.email, sizeof(c.email), "%s", u->email ? u->email : "");
	c.iat = (int64_t)time(NULL);
	c.exp = c.iat + cfg.access_ttl;
	if (rnd_uuid(c.jti) != USHER_OK)
		return USHER_ERR_INTERNAL;
	return keys_sign(&c, jwt);
}

enum usher_err
sess_create(const struct user *u, const char *ua, const char *ip,
    struct tokpair *out)
{
	char		 hash[DIGEST_PARAM], ttl[16], uabuf[LIM_USER_AGENT + 1];
	const char	*p[5];
	PGresult	*res;
	enum usher_err	 rc;

	memset(out, 0, sizeof(*out));
	if ((rc = new_refresh(&out->refresh)) != USHER_OK)
		return rc;
	digest_param(out->refresh, hash);
	snprintf(ttl, sizeof(ttl), "%u", cfg.refresh_ttl);
	/* a valid UTF-8 prefix only: cut at a character boundary */
	snprintf(uabuf, sizeof(uabuf), "%s", ua ? ua : "");
	while (!valid_utf8(uabuf, strlen(uabuf)))
		uabuf[strlen(uabuf) - 1] = '\0';
	p[0] = u->id;
	p[1] = hash;
	p[2] = ttl;
	p[3] = uabuf[0] ? uabuf : NULL;
	p[4] = ip;
	if ((rc = db_exec(&sstmts[S_CREATE], p, &res)) != USHER_OK)
		goto fail;
	snprintf(out->sid, sizeof(out->sid), "%s", PQgetvalue(res, 0, 0));
	PQclear(res);
	if ((rc = sign_access(u, out->sid, &out->access)) != USHER_OK)
		goto fail;
	return USHER_OK;
fail:
	sess_pair_clear(out);
	return rc;
}

/* Key of the grace copy: HMAC-SHA256(old token, label). Only the holder of
 * the old token can open what was sealed for it. */
static int
grace_key(const char *old, unsigned char key[32])
{
	static const char	label[] = "usher refresh grace v1";
	unsigned int		len = 32;

	return HMAC(EVP_sha256(), old, (int)strlen(old),
	    (const unsigned char *)label, sizeof(label) - 1, key, &len) != NULL;
}

/* AES-256-GCM: nonce || ciphertext || tag, as "\x" hex for bytea. */
static char *
grace_seal(const char *old, const char *plain)
{
	unsigned char	 key[32], *buf = NULL;
	EVP_CIPHER_CTX	*ctx = NULL;
	size_t		 plen = strlen(plain);
	char		*hex = NULL;
	int		 n, fin;

	if (!grace_key(old, key) || (ctx = EVP_CIPHER_CTX_new()) == NULL)
		goto out;
	buf = xmalloc(GCM_NONCE + plen + GCM_TAG);
	if (rnd_bytes(buf, GCM_NONCE) != USHER_OK ||
	    EVP_EncryptInit_ex(ctx, EVP_aes_256_gcm(), NULL, key, buf) != 1 ||
	    EVP_EncryptUpdate(ctx, buf + GCM_NONCE, &n,
	    (const unsigned char *)plain, (int)plen) != 1 ||
	    EVP_EncryptFinal_ex(ctx, buf + GCM_NONCE + n, &fin) != 1 ||
	    EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, GCM_TAG,
	    buf + GCM_NONCE + plen) != 1)
		goto out;
	hex = xmalloc(2 + 2 * (GCM_NONCE + plen + GCM_TAG) + 1);
	hex[0] = '\\';
	hex[1] = 'x';
	hex_encode(buf, GCM_NONCE + plen + GCM_TAG, hex + 2);
out:
	explicit_bzero(key, sizeof(key));
	EVP_CIPHER_CTX_free(ctx);
	free(buf);
	if (hex == NULL)
		log_error("cannot seal the grace copy");
	return hex;
}

static int
unhex(const char *s, unsigned char *out, size_t max, size_t *len)
{
	size_t	i, n = strlen(s);
	int	hi, lo;

	if (n < 2 || s[0] != '\\' || s[1] != 'x' || n % 2 != 0 ||
	    (n - 2) / 2 > max)
		return 0;
	for (i = 2; i < n; i += 2) {
		hi = s[i] <= '9' ? s[i] - '0' : s[i] - 'a' + 10;
		lo = s[i + 1] <= '9' ? s[i + 1] - '0' : s[i + 1] - 'a' + 10;
		if (hi < 0 || hi > 15 || lo < 0 || lo > 15)
			return 0;
		out[(i - 2) / 2] = (unsigned char)(hi << 4 | lo);
	}
	*len = (n - 2) / 2;
	return 1;
}

/* Open a grace copy into "refresh\naccess"; NULL if it does not open. */
static char *
grace_open(const char *old, const char *hex)
{
	unsigned char	 key[32], *buf;
	EVP_CIPHER_CTX	*ctx = NULL;
	size_t		 len, clen;
	char		*plain = NULL;
	int		 n, fin, ok = 0;

	buf = xmalloc(GCM_NONCE + GRACE_MAX + GCM_TAG);
	if (!unhex(hex, buf, GCM_NONCE + GRACE_MAX + GCM_TAG, &len) ||
	    len <= GCM_NONCE + GCM_TAG || !grace_key(old, key))
		goto out;
	clen = len - GCM_NONCE - GCM_TAG;
	plain = xmalloc(clen + 1);
	if ((ctx = EVP_CIPHER_CTX_new()) == NULL ||
	    EVP_DecryptInit_ex(ctx, EVP_aes_256_gcm(), NULL, key, buf) != 1 ||
	    EVP_DecryptUpdate(ctx, (unsigned char *)plain, &n,
	    buf + GCM_NONCE, (int)clen) != 1 ||
	    EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, GCM_TAG,
	    buf + GCM_NONCE + clen) != 1 ||
	    EVP_DecryptFinal_ex(ctx, (unsigned char *)plain + n, &fin) != 1)
		goto out;
	plain[clen] = '\0';
	ok = 1;
out:
	explicit_bzero(key, sizeof(key));
	EVP_CIPHER_CTX_free(ctx);
	free(buf);
	if (!ok) {
		free(plain);
		plain = NULL;
	}
	return plain;
}

/*
 * Rotate the session S_PEEK found (row 0 of res). USHER_ERR_CONFLICT when
 * another refresh of the same token won: the caller replays instead.
 */
static enum usher_err
rotate(const char *token, PGresult *res, struct tokpair *out,
    struct user **u, unsigned *retry)
{
	const struct rate	*rt = &cfg.rate[RATE_REFRESH_SESSION];
	char			 oldh[DIGEST_PARAM], newh[DIGEST_PARAM];
	char			 ttl[16], win[16], lim[16];
	char			 key[THROTTLE_KEY], *blob = NULL, *plain;
	const char		*p[8];
	PGresult		*rr = NULL;
	enum usher_err		 rc;

	snprintf(out->sid, sizeof(out->sid), "%s", PQgetvalue(res, 0, 0));
	*u = user_from_row(res, 0, 1);
	if ((*u)->status != USTATUS_ACTIVE)
		return USHER_ERR_BAD_REFRESH;
	if ((rc = sign_access(*u, out->sid, &out->access)) != USHER_OK)
		return rc;
	plain = xasprintf("%s\n%s", out->refresh, out->access);
	blob = grace_seal(token, plain);
	explicit_bzero(plain, strlen(plain));
	free(plain);
	if (blob == NULL)
		return USHER_ERR_INTERNAL;
	digest_param(token, oldh);
	digest_param(out->refresh, newh);
	snprintf(ttl, sizeof(ttl), "%u", cfg.refresh_ttl);
	throttle_key(RATE_REFRESH_SESSION, out->sid, key, sizeof(key));
	snprintf(win, sizeof(win), "%u", rt->window);
	snprintf(lim, sizeof(lim), "%u", rt->count);
	p[0] = out->sid;
	p[1] = oldh;
	p[2] = newh;
	p[3] = ttl;
	p[4] = blob;
	p[5] = key;
	p[6] = win;
	p[7] = lim;
	rc = db_exec(&sstmts[S_ROTATE], p, &rr);
	free(blob);
	if (rc != USHER_OK)
		return rc;
	if (strcmp(PQgetvalue(rr, 0, 0), "1") == 0)
		rc = USHER_OK;
	else if (!PQgetisnull(rr, 0, 1) &&
	    strtoul(PQgetvalue(rr, 0, 1), NULL, 10) > rt->count) {
		*retry = (unsigned)strtoul(PQgetvalue(rr, 0, 2), NULL, 10);
		rc = USHER_ERR_RATE_LIMITED;
	} else
		rc = USHER_ERR_CONFLICT;
	PQclear(rr);
	return rc;
}

/* The token was rotated before: a retry within grace, or reuse. */
static enum usher_err
replay(const char *token, struct tokpair *out, struct user **u)
{
	char		 h[DIGEST_PARAM], grace[16], *plain = NULL, *nl;
	const char	*p[3];
	PGresult	*res;
	enum usher_err	 rc;
	int		 in_grace, latest, active;

	digest_param(token, h);
	snprintf(grace, sizeof(grace), "%u", cfg.refresh_grace);
	p[0] = h;
	p[1] = grace;
	if ((rc = db_exec(&sstmts[S_HISTORY], p, &res)) != USHER_OK)
		return rc;
	if (PQntuples(res) == 0) {
		PQclear(res);
		return USHER_ERR_BAD_REFRESH;
	}
	snprintf(out->sid, sizeof(out->sid), "%s", PQgetvalue(res, 0, 0));
	in_grace = strcmp(PQgetvalue(res, 0, 2), "t") == 0;
	latest = strcmp(PQgetvalue(res, 0, 3), "t") == 0;
	active = strcmp(PQgetvalue(res, 0, 4), "t") == 0;
	if (active && in_grace && latest && !PQgetisnull(res, 0, 1))
		plain = grace_open(token, PQgetvalue(res, 0, 1));
	if (plain != NULL && (nl = strchr(plain, '\n')) != NULL) {
		*nl = '\0';
		out->refresh = xstrdup(plain);
		out->access = xstrdup(nl + 1);
		*u = user_from_row(res, 0, 5);
		rc = (*u)->status == USTATUS_ACTIVE ? USHER_OK :
		    USHER_ERR_BAD_REFRESH;
	} else if (!active)
		rc = USHER_ERR_BAD_REFRESH;
	else {
		log_warn("refresh token reuse: revoking session %s", out->sid);
		p[0] = PQgetvalue(res, 0, 5);	/* user id */
		p[1] = out->sid;
		p[2] = "reuse";
		rc = db_exec(&sstmts[S_REVOKE], p, NULL);
		if (rc == USHER_OK)
			rc = USHER_ERR_REFRESH_REUSED;
	}
	if (plain != NULL) {
		explicit_bzero(plain, strlen(plain));
		free(plain);
	}
	PQclear(res);
	return rc;
}

/*
 * Three statements, no explicit transaction: the rotation itself is one
 * atomic statement, so twenty parallel refreshes of one token serialize on
 * the session's row; one rotates, the others find the token rotated and
 * get the same pair from the grace copy.
 */
enum usher_err
sess_refresh(const char *token, struct tokpair *out, struct user **u,
    unsigned *retry)
{
	char		 oldh[DIGEST_PARAM];
	const char	*p[1] = { oldh };
	PGresult	*res = NULL;
	enum usher_err	 rc;

	memset(out, 0, sizeof(*out));
	*u = NULL;
	*retry = 0;
	digest_param(token, oldh);
	if ((rc = db_exec(&sstmts[S_PEEK], p, &res)) != USHER_OK)
		return rc;
	rc = USHER_ERR_CONFLICT;
	if (PQntuples(res) == 1 && (rc = new_refresh(&out->refresh)) == USHER_OK)
		rc = rotate(token, res, out, u, retry);
	PQclear(res);
	if (rc == USHER_ERR_CONFLICT) {
		sess_pair_clear(out);
		user_free(*u);
		*u = NULL;
		rc = replay(token, out, u);
	}
	if (rc != USHER_OK) {
		sess_pair_clear(out);
		user_free(*u);
		*u = NULL;
	}
	return rc;
}

enum usher_err
sess_principal(const char *sid, const char *uid, struct user **u)
{
	const char	*p[2] = { sid, uid };
	PGresult	*res;
	enum usher_err	 rc;

	*u = NULL;
	if ((rc = db_exec(&sstmts[S_PRINCIPAL], p, &res)) != USHER_OK)
		return rc;
	if (PQntuples(res) == 1)
		*u = user_from_row(res, 0, 0);
	PQclear(res);
	if (*u == NULL)
		return USHER_ERR_UNAUTHORIZED;
	if ((*u)->status != USTATUS_ACTIVE) {
		user_free(*u);
		*u = NULL;
		return USHER_ERR_UNAUTHORIZED;
	}
	return USHER_OK;
}

enum usher_err
sess_revoke(const char *uid, const char *sid, const char *reason)
{
	const char	*p[3] = { uid, sid, reason };

	if (!valid_uuid(sid))
		return USHER_ERR_NOT_FOUND;
	return db_exec_found(&sstmts[S_REVOKE], p);
}

enum usher_err
sess_revoke_id(const char *sid, const char *reason)
{
	const char	*p[2] = { sid, reason };

	if (!valid_uuid(sid))
		return USHER_ERR_NOT_FOUND;
	return db_exec_found(&sstmts[S_REVOKE_ID], p);
}

enum usher_err
sess_revoke_all(const char *uid, const char *keep, const char *reason)
{
	const char	*p[3] = { uid, keep, reason };

	return db_exec(&sstmts[S_REVOKE_ALL], p, NULL);
}

static struct json_object *
opt_str(const PGresult *res, int i, int c)
{
	return PQgetisnull(res, i, c) ? NULL :
	    json_object_new_string(PQgetvalue(res, i, c));
}

enum usher_err
sess_list(const char *uid, const char *current, struct json_object **items)
{
	char			 lim[16];
	const char		*p[2] = { uid, lim };
	PGresult		*res;
	struct json_object	*a, *o;
	enum usher_err		 rc;
	int			 i;

	snprintf(lim, sizeof(lim), "%d", LIM_SESSIONS_LIST);
	if ((rc = db_exec(&sstmts[S_LIST], p, &res)) != USHER_OK)
		return rc;
	a = json_object_new_array();
	for (i = 0; i < PQntuples(res); i++) {
		o = json_object_new_object();
		json_object_object_add(o, "id", opt_str(res, i, 0));
		json_object_object_add(o, "created_at", opt_str(res, i, 1));
		json_object_object_add(o, "last_used_at", opt_str(res, i, 2));
		json_object_object_add(o, "user_agent", opt_str(res, i, 3));
		json_object_object_add(o, "ip", opt_str(res, i, 4));
		json_object_object_add(o, "current", json_object_new_boolean(
		    current != NULL && strcmp(PQgetvalue(res, i, 0), current) == 0));
		json_object_array_add(a, o);
	}
	PQclear(res);
	*items = a;
	return USHER_OK;
}

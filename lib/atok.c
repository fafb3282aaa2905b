/* atok.c -- single-use tokens of mailed links, kept only as digests */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "atok.h"
#include "db.h"
#include "rnd.h"
#include "xmalloc.h"

enum tstmt { K_MINT, K_TAKE, K_PEEK, K_KILL, K__MAX };

static const char *const purposes[ATOK__MAX] = {
	[ATOK_VERIFY_EMAIL] = "verify_email",
	[ATOK_PASSWORD_RESET] = "password_reset",
	[ATOK_EMAIL_CHANGE] = "email_change",
};

/*
 * $1 hash, $2 purposes accepted ({verify_email,email_change} or one).
 * K_TAKE locks the row and marks it used only while fresh, so a second
 * use waits for the first and then finds nothing, and an expired token
 * keeps answering "expired".
 */
static struct db_stmt kstmts[K__MAX] = {
	[K_MINT] = { "atok_mint",
	    "WITH k AS (UPDATE action_tokens SET used_at = now() "
	    "  WHERE $2 = 'password_reset' AND user_id = $3::uuid "
	    "  AND purpose = $2 AND used_at IS NULL "
	    "  AND mail_id IS DISTINCT FROM $5::bigint) "
	    "INSERT INTO action_tokens (hash, purpose, user_id, email, mail_id, "
	    "  expires_at) VALUES ($1::bytea, $2, $3::uuid, $4, $5::bigint, "
	    "  now() + make_interval(secs => $6::int)) "
	    "RETURNING to_char(expires_at AT TIME ZONE 'UTC', "
	    "  'YYYY-MM-DD HH24:MI \"UTC\"')", 6, 0 },
	[K_TAKE] = { "atok_take",
	    "WITH t AS (SELECT hash, purpose, user_id, email, "
	    "  expires_at > now() AS fresh FROM action_tokens "
	    "  WHERE hash = $1::bytea AND purpose = ANY ($2::text[]) "
	    "  AND used_at IS NULL FOR UPDATE), "
	    "u AS (UPDATE action_tokens a SET used_at = now() FROM t "
	    "  WHERE a.hash = t.hash AND t.fresh) "
	    "SELECT purpose, user_id, email, fresh FROM t", 2, 0 },
	[K_PEEK] = { "atok_peek",
	    "SELECT purpose, user_id, email, expires_at > now() "
	    "FROM action_tokens WHERE hash = $1::bytea "
	    "AND purpose = ANY ($2::text[]) AND used_at IS NULL", 2, 0 },
	[K_KILL] = { "atok_kill",
	    "UPDATE action_tokens SET used_at = now() WHERE user_id = $1::uuid "
	    "AND purpose = $2 AND used_at IS NULL", 2, 0 },
};

/* The token's digest parameter, or 0 when the token cannot be ours. */
static int
digest(const char *token, char out[DIGEST_PARAM])
{
	unsigned char	raw[LIM_MAIL_TOKEN_BYTES + 8];
	size_t		n;

	if (token == NULL || strlen(token) > LIM_MAIL_TOKEN ||
	    !b64url_decode(token, raw, sizeof(raw), &n) ||
	    n != LIM_MAIL_TOKEN_BYTES)
		return 0;
	digest_param(token, out);
	return 1;
}

enum usher_err
atok_mint(enum atok_purpose p, const char *uid, const char *email,
    const char *mail_id, unsigned ttl, char *token, char *expires)
{
	unsigned char	 raw[LIM_MAIL_TOKEN_BYTES];
	char		 hash[DIGEST_PARAM], secs[16], *enc;
	const char	*params[6];
	PGresult	*res;
	enum usher_err	 rc;

	if (rnd_bytes(raw, sizeof(raw)) != USHER_OK)
		return USHER_ERR_INTERNAL;
	enc = b64url_encode(raw, sizeof(raw));
	explicit_bzero(raw, sizeof(raw));
	snprintf(token, LIM_MAIL_TOKEN + 1, "%s", enc);
	explicit_bzero(enc, strlen(enc));
	free(enc);
	(void)digest(token, hash);
	snprintf(secs, sizeof(secs), "%u", ttl);
	params[0] = hash;
	params[1] = purposes[p];
	params[2] = uid;
	params[3] = email;
	params[4] = mail_id;
	params[5] = secs;
	if ((rc = db_exec(&kstmts[K_MINT], params, &res)) != USHER_OK) {
		explicit_bzero(token, LIM_MAIL_TOKEN + 1);
		return rc;
	}
	snprintf(expires, 32, "%s", PQgetvalue(res, 0, 0));
	PQclear(res);
	return USHER_OK;
}

static enum usher_err
lookup(enum tstmt st, const char *token, enum atok_purpose p,
    struct atok *out)
{
	char		 hash[DIGEST_PARAM];
	const char	*params[2];
	PGresult	*res;
	enum usher_err	 rc;
	size_t		 i;

	memset(out, 0, sizeof(*out));
	if (!digest(token, hash))
		return USHER_ERR_LINK_INVALID;
	params[0] = hash;
	params[1] = p == ATOK_VERIFY_EMAIL ? "{verify_email,email_change}" :
	    p == ATOK_PASSWORD_RESET ? "{password_reset}" : "{email_change}";
	if ((rc = db_exec(&kstmts[st], params, &res)) != USHER_OK)
		return rc;
	rc = USHER_ERR_LINK_INVALID;
	if (PQntuples(res) == 1) {
		for (i = 0; i < ATOK__MAX; i++)
			if (strcmp(PQgetvalue(res, 0, 0), purposes[i]) == 0)
				out->purpose = (enum atok_purpose)i;
		snprintf(out->uid, sizeof(out->uid), "%s", PQgetvalue(res, 0, 1));
		snprintf(out->email, sizeof(out->email), "%s",
		    PQgetvalue(res, 0, 2));
		rc = strcmp(PQgetvalue(res, 0, 3), "t") == 0 ? USHER_OK :
		    USHER_ERR_LINK_EXPIRED;
	}
	PQclear(res);
	return rc;
}

enum usher_err
atok_take(const char *token, enum atok_purpose p, struct atok *out)
{
	return lookup(K_TAKE, token, p, out);
}

enum usher_err
atok_peek(const char *token, enum atok_purpose p, struct atok *out)
{
	return lookup(K_PEEK, token, p, out);
}

enum usher_err
atok_kill(const char *uid, enum atok_purpose p)
{
	const char	*params[2] = { uid, purposes[p] };

	return db_exec(&kstmts[K_KILL], params, NULL);
}

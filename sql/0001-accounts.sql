-- 0001-accounts.sql -- users, sessions, refresh token history, signing keys,
-- throttling. Applied in one transaction by `usherctl migrate`.

-- RFC 3339 UTC text of a timestamp, as the API shows every time.
-- STABLE like the to_char() inside: then the planner inlines it (an
-- IMMUTABLE wrapper is planned anew on every call).
CREATE FUNCTION usher_ts(t timestamptz) RETURNS text
LANGUAGE sql STABLE STRICT PARALLEL SAFE
AS $$ SELECT to_char(t AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') $$;
COMMENT ON FUNCTION usher_ts(timestamptz) IS 'RFC 3339 UTC rendering used by every API timestamp';

CREATE TABLE users (
	id		uuid PRIMARY KEY DEFAULT gen_random_uuid(),
	email		text CHECK (email IS NULL OR (length(email) BETWEEN 3 AND 254
			    AND email !~ '[[:space:][:cntrl:]<>]')),
	username	text CHECK (username IS NULL OR
			    username ~ '^[A-Za-z0-9][A-Za-z0-9_.-]{2,31}$'),
	display_name	text CHECK (display_name IS NULL OR
			    char_length(display_name) BETWEEN 1 AND 64),
	password_hash	text CHECK (password_hash IS NULL OR password_hash LIKE '$s1$%'),
	role		text NOT NULL DEFAULT 'user'
			    CHECK (role IN ('guest', 'user', 'moderator', 'admin')),
	status		text NOT NULL DEFAULT 'active'
			    CHECK (status IN ('active', 'disabled', 'deleted')),
	email_verified	boolean NOT NULL DEFAULT false,
	locale		text NOT NULL DEFAULT 'en' CHECK (locale IN ('en', 'uk', 'ru')),
	avatar_url	text,
	profile		jsonb NOT NULL DEFAULT '{}'
			    CHECK (jsonb_typeof(profile) = 'object' AND
			    length(profile::text) <= 8192),
	created_at	timestamptz NOT NULL DEFAULT now(),
	updated_at	timestamptz NOT NULL DEFAULT now(),
	CHECK (role = 'guest' OR email IS NOT NULL)
);
CREATE UNIQUE INDEX users_email_key ON users (lower(email));
CREATE UNIQUE INDEX users_username_key ON users (lower(username));
CREATE INDEX users_created_idx ON users (created_at, id);
COMMENT ON TABLE users IS 'Accounts; guests have no email until they upgrade';
COMMENT ON COLUMN users.id IS 'Stable public identifier (JWT sub)';
COMMENT ON COLUMN users.email IS 'Login address, unique case-insensitively; NULL for guests';
COMMENT ON COLUMN users.username IS 'Optional login name, unique case-insensitively';
COMMENT ON COLUMN users.display_name IS 'Free-form name shown to others, 1..64 characters';
COMMENT ON COLUMN users.password_hash IS 'libscrypt MCF string; NULL when the account has no password';
COMMENT ON COLUMN users.role IS 'guest < user < moderator < admin';
COMMENT ON COLUMN users.status IS 'active, disabled (by staff) or deleted (restorable)';
COMMENT ON COLUMN users.email_verified IS 'Whether the owner proved control of email';
COMMENT ON COLUMN users.locale IS 'Language of mail and pages: en, uk or ru';
COMMENT ON COLUMN users.avatar_url IS 'Public URL of the avatar, if any';
COMMENT ON COLUMN users.profile IS 'Free profile object (games, genres, bio, ...), at most 8 KiB';
COMMENT ON COLUMN users.created_at IS 'When the account was created';
COMMENT ON COLUMN users.updated_at IS 'When the account last changed';

CREATE TABLE sessions (
	id		uuid PRIMARY KEY DEFAULT gen_random_uuid(),
	user_id		uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	refresh_hash	bytea NOT NULL UNIQUE CHECK (octet_length(refresh_hash) = 32),
	created_at	timestamptz NOT NULL DEFAULT now(),
	last_used_at	timestamptz NOT NULL DEFAULT now(),
	expires_at	timestamptz NOT NULL,
	revoked_at	timestamptz,
	revoke_reason	text CHECK (revoke_reason IN ('logout', 'reuse', 'password',
			    'admin', 'disabled', 'user')),
	user_agent	text CHECK (length(user_agent) <= 256),
	ip		inet,
	CHECK ((revoked_at IS NULL) = (revoke_reason IS NULL))
);
CREATE INDEX sessions_user_idx ON sessions (user_id) WHERE revoked_at IS NULL;
COMMENT ON TABLE sessions IS 'One login on one device; access tokens carry its id (sid)';
COMMENT ON COLUMN sessions.id IS 'Session id, the JWT sid claim';
COMMENT ON COLUMN sessions.user_id IS 'Owner of the session';
COMMENT ON COLUMN sessions.refresh_hash IS 'SHA-256 of the current refresh token; the token itself is never stored';
COMMENT ON COLUMN sessions.created_at IS 'When the session was opened';
COMMENT ON COLUMN sessions.last_used_at IS 'Last refresh';
COMMENT ON COLUMN sessions.expires_at IS 'The current refresh token is refused after this';
COMMENT ON COLUMN sessions.revoked_at IS 'When the session ended; its tokens are refused from then';
COMMENT ON COLUMN sessions.revoke_reason IS 'Why it ended: logout, reuse, password, admin, disabled, user';
COMMENT ON COLUMN sessions.user_agent IS 'User-Agent at login, truncated to 256 bytes';
COMMENT ON COLUMN sessions.ip IS 'Client address at login';

CREATE TABLE refresh_tokens (
	hash		bytea PRIMARY KEY CHECK (octet_length(hash) = 32),
	session_id	uuid NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
	successor	bytea NOT NULL CHECK (octet_length(successor) = 32),
	rotated_at	timestamptz NOT NULL DEFAULT now(),
	grace_blob	bytea
);
CREATE INDEX refresh_tokens_session_idx ON refresh_tokens (session_id);
COMMENT ON TABLE refresh_tokens IS 'Refresh tokens already rotated: a replay is either a retry within the grace period or reuse';
COMMENT ON COLUMN refresh_tokens.hash IS 'SHA-256 of the rotated token';
COMMENT ON COLUMN refresh_tokens.session_id IS 'Session the token belonged to';
COMMENT ON COLUMN refresh_tokens.successor IS 'SHA-256 of the token that replaced it';
COMMENT ON COLUMN refresh_tokens.rotated_at IS 'When it was rotated; the grace period counts from here';
COMMENT ON COLUMN refresh_tokens.grace_blob IS 'The successor pair, AES-256-GCM encrypted under a key derived from the rotated token';

CREATE TABLE signing_keys (
	kid		text PRIMARY KEY CHECK (kid ~ '^[A-Za-z0-9_-]{8,64}$'),
	alg		text NOT NULL CHECK (alg IN ('ES256', 'RS256')),
	private_pem	text NOT NULL,
	public_pem	text NOT NULL,
	state		text NOT NULL CHECK (state IN ('next', 'current', 'previous', 'retired')),
	created_at	timestamptz NOT NULL DEFAULT now(),
	activated_at	timestamptz,
	retired_at	timestamptz
);
CREATE UNIQUE INDEX signing_keys_one_current ON signing_keys ((true)) WHERE state = 'current';
COMMENT ON TABLE signing_keys IS 'Asymmetric keys for access tokens; the current one signs, all but retired verify';
COMMENT ON COLUMN signing_keys.kid IS 'Key id, the JWT header kid';
COMMENT ON COLUMN signing_keys.alg IS 'ES256 or RS256';
COMMENT ON COLUMN signing_keys.private_pem IS 'PKCS#8 private key, PEM';
COMMENT ON COLUMN signing_keys.public_pem IS 'SubjectPublicKeyInfo, PEM, published as JWKS';
COMMENT ON COLUMN signing_keys.state IS 'next (published), current (signs), previous (verifies), retired';
COMMENT ON COLUMN signing_keys.created_at IS 'When generated';
COMMENT ON COLUMN signing_keys.activated_at IS 'When it became current';
COMMENT ON COLUMN signing_keys.retired_at IS 'When it stopped verifying';

CREATE UNLOGGED TABLE throttle (
	key		text PRIMARY KEY CHECK (length(key) <= 300),
	window_start	timestamptz NOT NULL,
	hits		integer NOT NULL CHECK (hits >= 0)
);
COMMENT ON TABLE throttle IS 'Fixed-window request counters shared by all processes; UNLOGGED: counting costs no WAL flush, and a crash only resets the windows';
COMMENT ON COLUMN throttle.key IS 'What is counted: kind and client address, account or session';
COMMENT ON COLUMN throttle.window_start IS 'Start of the current window';
COMMENT ON COLUMN throttle.hits IS 'Requests seen in the current window';

-- Count one hit of `key` in a fixed window of `win` seconds: the hits so
-- far in this window and the seconds until it ends.
CREATE FUNCTION usher_throttle_hit(key text, win integer,
    OUT hits integer, OUT retry integer)
LANGUAGE sql VOLATILE STRICT
AS $$
	INSERT INTO throttle AS t (key, window_start, hits)
	VALUES (key, now(), 1)
	ON CONFLICT (key) DO UPDATE SET
	    hits = CASE WHEN t.window_start <= now() - make_interval(secs => win)
		THEN 1 ELSE t.hits + 1 END,
	    window_start = CASE WHEN t.window_start <= now() - make_interval(secs => win)
		THEN now() ELSE t.window_start END
	RETURNING t.hits, greatest(1, ceil(extract(epoch FROM
	    t.window_start + make_interval(secs => win) - now())))::integer
$$;
COMMENT ON FUNCTION usher_throttle_hit(text, integer) IS 'One request counted against a fixed-window limit';

CREATE UNLOGGED TABLE login_failures (
	key		text PRIMARY KEY CHECK (length(key) <= 300),
	failures	integer NOT NULL CHECK (failures >= 0),
	last_failure_at	timestamptz NOT NULL,
	locked_until	timestamptz
);
COMMENT ON TABLE login_failures IS 'Failed logins per account and per address, for exponential backoff; UNLOGGED like throttle (backoff is temporary by design)';
COMMENT ON COLUMN login_failures.key IS 'acct:<lowercased login> or ip:<address>';
COMMENT ON COLUMN login_failures.failures IS 'Consecutive failures (reset after an hour without one, or by success)';
COMMENT ON COLUMN login_failures.last_failure_at IS 'Time of the last failure';
COMMENT ON COLUMN login_failures.locked_until IS 'Logins are refused (429) until then';

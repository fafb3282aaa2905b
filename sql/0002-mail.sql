-- 0002-mail.sql -- the mail outbox and the single-use tokens mailed in links

-- One row per message to send. The web programs insert rows in the same
-- transaction as the change that causes them; usher-mailer (or
-- `usherctl mail flush`) delivers them. Rows hold no secret: the token a
-- message carries is minted by the worker at delivery time and stored
-- only as a digest in action_tokens.
CREATE TABLE mail_outbox (
	id		bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	kind		text NOT NULL CHECK (kind IN ('verify_email',
			    'password_reset', 'password_changed',
			    'username_reminder', 'email_change_confirm',
			    'email_change_notice', 'notification')),
	-- translate() rather than a regular expression: it runs on every
	-- queued message (a registration), at a third of the cost
	to_addr		text NOT NULL CHECK (char_length(to_addr) BETWEEN 3 AND 254
			    AND translate(to_addr, E' <>\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a\x0b\x0c\x0d\x0e\x0f\x10\x11\x12\x13\x14\x15\x16\x17\x18\x19\x1a\x1b\x1c\x1d\x1e\x1f\x7f', '')
			    = to_addr),
	user_id		uuid REFERENCES users (id) ON DELETE CASCADE,
	vars		jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(vars) = 'object'),
	-- unique by construction (a random UUID): no index to maintain
	message_id	text NOT NULL CHECK (char_length(message_id) <= 250
			    AND message_id LIKE '<%@%>'
			    AND translate(message_id, E' <>\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a\x0b\x0c\x0d\x0e\x0f\x10\x11\x12\x13\x14\x15\x16\x17\x18\x19\x1a\x1b\x1c\x1d\x1e\x1f\x7f', '')
			    = substr(message_id, 2, char_length(message_id) - 2)),
	status		text NOT NULL DEFAULT 'pending'
			    CHECK (status IN ('pending', 'sent', 'failed', 'skipped')),
	attempts	integer NOT NULL DEFAULT 0 CHECK (attempts >= 0),
	next_attempt_at	timestamptz NOT NULL DEFAULT now(),
	last_error	text CHECK (char_length(last_error) <= 500),
	locale		text CHECK (locale IN ('en', 'uk', 'ru')),
	created_at	timestamptz NOT NULL DEFAULT now(),
	sent_at		timestamptz,
	CHECK ((status = 'sent') = (sent_at IS NOT NULL))
);
COMMENT ON TABLE mail_outbox IS 'Messages to send, written in the transaction that causes them; delivered by usher-mailer';
COMMENT ON COLUMN mail_outbox.id IS 'Queue order';
COMMENT ON COLUMN mail_outbox.kind IS 'Which message (a template name under templates/<locale>/mail/)';
COMMENT ON COLUMN mail_outbox.to_addr IS 'Recipient; for requests by address (forgot, resend, remind) the address as asked, lowercased: the worker finds the account';
COMMENT ON COLUMN mail_outbox.user_id IS 'The account the message is about; NULL for requests by address';
COMMENT ON COLUMN mail_outbox.vars IS 'Placeholder values the account row does not give (new_email, old_email, title, body); never a secret';
COMMENT ON COLUMN mail_outbox.message_id IS 'RFC 5322 Message-ID, the same on every attempt; <random UUID@sender domain>';
COMMENT ON COLUMN mail_outbox.status IS 'pending, sent, failed (permanent error or retries exhausted), skipped (no such account, or nothing to send any more)';
COMMENT ON COLUMN mail_outbox.attempts IS 'Delivery attempts made';
COMMENT ON COLUMN mail_outbox.next_attempt_at IS 'Not tried again before this (exponential backoff)';
COMMENT ON COLUMN mail_outbox.last_error IS 'Why the last attempt failed or the row was skipped';
COMMENT ON COLUMN mail_outbox.locale IS 'Language the message was rendered in, once tried';
COMMENT ON COLUMN mail_outbox.created_at IS 'When the cause happened';
COMMENT ON COLUMN mail_outbox.sent_at IS 'When the transport accepted it';

CREATE INDEX mail_outbox_due ON mail_outbox (next_attempt_at, id)
    WHERE status = 'pending';
CREATE INDEX mail_outbox_user ON mail_outbox (user_id) WHERE user_id IS NOT NULL;

-- The per-recipient limits count the recipient's recent rows of a kind.
CREATE INDEX mail_outbox_recipient ON mail_outbox (lower(to_addr), kind,
    created_at);

-- Queue one message unless the recipient had one of this kind in the last
-- minute or `cap` in the last hour (both silently: the API answers the
-- same). An advisory lock per recipient and kind makes two concurrent
-- requests queue one message, not two. Returns the new row's id, or NULL
-- when suppressed. The workers are woken by a NOTIFY usher_mail the
-- programs send after their transaction commits: a NOTIFY inside it would
-- serialize every committing transaction that queues mail (PostgreSQL
-- takes a database-wide lock for it until the commit is flushed).
CREATE FUNCTION usher_mail_enqueue(p_kind text, p_to text, p_user uuid,
    p_vars jsonb, p_cap integer, p_domain text) RETURNS bigint
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
	last_minute	bigint;
	last_hour	bigint;
	new_id		bigint;
BEGIN
	PERFORM pg_advisory_xact_lock(hashtextextended(
	    'usher_mail:' || p_kind || ':' || lower(p_to), 0));
	SELECT count(*) FILTER (WHERE created_at > now() - interval '60 seconds'),
	    count(*)
	INTO last_minute, last_hour FROM mail_outbox
	WHERE lower(to_addr) = lower(p_to) AND kind = p_kind
	    AND created_at > now() - interval '1 hour';
	IF last_minute > 0 OR (p_cap > 0 AND last_hour >= p_cap) THEN
		RETURN NULL;
	END IF;
	INSERT INTO mail_outbox (kind, to_addr, user_id, vars, message_id)
	VALUES (p_kind, p_to, p_user, coalesce(p_vars, '{}'),
	    '<' || gen_random_uuid() || '@' || p_domain || '>')
	RETURNING id INTO new_id;
	RETURN new_id;
END
$$;
COMMENT ON FUNCTION usher_mail_enqueue(text, text, uuid, jsonb, integer, text) IS 'Queues one message, at most one per recipient and kind a minute and p_cap an hour';

-- Secrets sent by mail, stored only as SHA-256 digests.
CREATE TABLE action_tokens (
	hash		bytea PRIMARY KEY CHECK (octet_length(hash) = 32),
	purpose		text NOT NULL CHECK (purpose IN ('verify_email',
			    'password_reset', 'email_change')),
	user_id		uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	email		text NOT NULL CHECK (char_length(email) <= 254),
	mail_id		bigint REFERENCES mail_outbox (id) ON DELETE SET NULL,
	created_at	timestamptz NOT NULL DEFAULT now(),
	expires_at	timestamptz NOT NULL,
	used_at		timestamptz,
	CHECK (expires_at > created_at)
);
COMMENT ON TABLE action_tokens IS 'Single-use tokens mailed in links (verification, password reset, email change); digests only';
COMMENT ON COLUMN action_tokens.hash IS 'SHA-256 of the token (the token itself is never stored)';
COMMENT ON COLUMN action_tokens.purpose IS 'What the token allows';
COMMENT ON COLUMN action_tokens.user_id IS 'The account it acts on';
COMMENT ON COLUMN action_tokens.email IS 'verify_email: the address verified (the token dies if the account''s address changes); email_change: the new address; password_reset: the address mailed';
COMMENT ON COLUMN action_tokens.mail_id IS 'The message that carried it: retries of one message keep its earlier tokens, a new request kills them';
COMMENT ON COLUMN action_tokens.created_at IS 'When it was minted';
COMMENT ON COLUMN action_tokens.expires_at IS 'Useless after this';
COMMENT ON COLUMN action_tokens.used_at IS 'Set when used or killed; a used token never works again';
CREATE INDEX action_tokens_user ON action_tokens (user_id, purpose)
    WHERE used_at IS NULL;

-- A password reset ends every session with its own reason.
ALTER TABLE sessions DROP CONSTRAINT sessions_revoke_reason_check;
ALTER TABLE sessions ADD CONSTRAINT sessions_revoke_reason_check
    CHECK (revoke_reason IN ('logout', 'reuse', 'password', 'password_reset',
    'admin', 'disabled', 'user'));
COMMENT ON COLUMN sessions.revoke_reason IS 'Why it ended: logout, reuse, password, password_reset, admin, disabled, user';

-- 0003-mail-enqueue.sql -- queueing a message costs a registration less

-- PostgreSQL 15 reads a table's CHECK expressions back from their stored
-- form and plans them again on every INSERT statement. The outbox's four
-- checks on what the web programs write (kind, recipient, placeholder
-- values, Message-ID) made that a third of the queueing function's time.
-- usher_mail_enqueue, the only writer of new rows, now checks the same
-- rules itself, with expressions PL/pgSQL prepares once per connection.
-- The checks on the delivery state, which the workers update, stay.
ALTER TABLE mail_outbox
	DROP CONSTRAINT mail_outbox_kind_check,
	DROP CONSTRAINT mail_outbox_to_addr_check,
	DROP CONSTRAINT mail_outbox_vars_check,
	DROP CONSTRAINT mail_outbox_message_id_check;

-- Queue one message unless the recipient had one of this kind in the last
-- minute or `cap` in the last hour (both silently: the API answers the
-- same). An advisory lock per recipient and kind makes two concurrent
-- requests queue one message, not two. Returns the new row's id, or NULL
-- when suppressed. Raises check_violation (23514) for a kind, recipient,
-- placeholder object or Message-ID domain the outbox must not hold: no
-- control character, space, '<' or '>' can reach a header from here.
-- The workers are woken by a NOTIFY usher_mail the programs send after
-- their transaction commits: a NOTIFY inside it would serialize every
-- committing transaction that queues mail (PostgreSQL takes a
-- database-wide lock for it until the commit is flushed).
CREATE OR REPLACE FUNCTION usher_mail_enqueue(p_kind text, p_to text,
    p_user uuid, p_vars jsonb, p_cap integer, p_domain text) RETURNS bigint
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
	last_minute	bigint;
	last_hour	bigint;
	new_id		bigint;
BEGIN
	IF p_kind IS NULL OR p_kind NOT IN ('verify_email', 'password_reset',
	    'password_changed', 'username_reminder', 'email_change_confirm',
	    'email_change_notice', 'notification') THEN
		RAISE check_violation USING MESSAGE = 'unknown mail kind';
	END IF;
	IF p_to IS NULL OR char_length(p_to) NOT BETWEEN 3 AND 254
	    OR p_to ~ '[[:cntrl:] <>]' THEN
		RAISE check_violation USING MESSAGE = 'unusable recipient';
	END IF;
	IF p_vars IS NOT NULL AND jsonb_typeof(p_vars) <> 'object' THEN
		RAISE check_violation USING MESSAGE = 'vars is not an object';
	END IF;
	IF p_domain IS NULL OR char_length(p_domain) NOT BETWEEN 1 AND 200
	    OR p_domain ~ '[[:cntrl:] <>@]' THEN
		RAISE check_violation USING MESSAGE = 'unusable Message-ID domain';
	END IF;
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
COMMENT ON FUNCTION usher_mail_enqueue(text, text, uuid, jsonb, integer, text) IS 'Queues one message, at most one per recipient and kind a minute and p_cap an hour; the only writer of new outbox rows, and the one that checks them';
COMMENT ON TABLE mail_outbox IS 'Messages to send, written in the transaction that causes them (by usher_mail_enqueue only, which checks kind, recipient, vars and Message-ID); delivered by usher-mailer';

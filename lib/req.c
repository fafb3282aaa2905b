/* req.c -- reading a request: parameters, headers, query, cookies, body, client */
#include "config.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <json-c/json.h>

#include "cfg.h"
#include "http_int.h"
#include "log.h"
#include "rnd.h"
#include "user.h"
#include "valid.h"
#include "xmalloc.h"

const char *
req_env(struct req *r, const char *name)
{
	if (r->impl->cgi)
		return getenv(name);
	return FCGX_GetParam(name, r->impl->envp);
}

void *
req_keep(struct req *r, void *p)
{
	struct http_impl	*h = r->impl;

	if (h->narena == ARENA_MAX) {
		/* a route needing more is a bug: fail loudly, not leak */
		log_error("request arena full");
		abort();
	}
	h->arena[h->narena++] = p;
	return p;
}

/* "User-Agent" -> HTTP_USER_AGENT; Content-Type/Length have no prefix. */
const char *
req_header(struct req *r, const char *name)
{
	char	 var[80];
	size_t	 i, off = 5;

	if (strcasecmp(name, "Content-Type") == 0)
		return req_env(r, "CONTENT_TYPE");
	if (strcasecmp(name, "Content-Length") == 0)
		return req_env(r, "CONTENT_LENGTH");
	if (strlen(name) + off >= sizeof(var))
		return NULL;
	memcpy(var, "HTTP_", off);
	for (i = 0; name[i] != '\0'; i++)
		var[off + i] = name[i] == '-' ? '_' :
		    (char)toupper((unsigned char)name[i]);
	var[off + i] = '\0';
	return req_env(r, var);
}

static int
hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = tolower(c);
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* Percent-decode s[0..len) (and '+' as space); NULL if malformed or NUL. */
static char *
url_decode(const char *s, size_t len)
{
	char	*out = xmalloc(len + 1);
	size_t	 i, j = 0;
	int	 hi, lo;

	for (i = 0; i < len; i++) {
		if (s[i] == '+')
			out[j++] = ' ';
		else if (s[i] != '%')
			out[j++] = s[i];
		else {
			if (i + 2 >= len) {
				free(out);
				return NULL;
			}
			hi = hexval((unsigned char)s[i + 1]);
			lo = hexval((unsigned char)s[i + 2]);
			if (hi < 0 || lo < 0 || (hi == 0 && lo == 0)) {
				free(out);
				return NULL;
			}
			out[j++] = (char)(hi << 4 | lo);
			i += 2;
		}
	}
	out[j] = '\0';
	if (!valid_utf8(out, j)) {
		free(out);
		return NULL;
	}
	return out;
}

/* The decoded value of `key` in "k=v&k=v" text, or NULL. */
static const char *
pairs_find(struct req *r, const char *p, const char *key)
{
	const char	*amp, *eq;
	size_t		 klen = strlen(key);
	char		*v;

	while (p != NULL && *p != '\0') {
		amp = strchr(p, '&');
		eq = memchr(p, '=', amp ? (size_t)(amp - p) : strlen(p));
		if (eq != NULL && (size_t)(eq - p) == klen &&
		    strncmp(p, key, klen) == 0) {
			v = url_decode(eq + 1, amp ? (size_t)(amp - eq - 1) :
			    strlen(eq + 1));
			return v ? req_keep(r, v) : NULL;
		}
		p = amp ? amp + 1 : NULL;
	}
	return NULL;
}

const char *
req_query(struct req *r, const char *key)
{
	return pairs_find(r, r->query, key);
}

const char *
req_form(struct req *r, const char *key)
{
	const char	*ct = req_header(r, "Content-Type");
	size_t		 n = strlen("application/x-www-form-urlencoded");

	if (ct == NULL || strncasecmp(ct, "application/x-www-form-urlencoded",
	    n) != 0 || (ct[n] != '\0' && ct[n] != ';') || r->body == NULL ||
	    strlen(r->body) != r->bodylen)
		return NULL;
	return pairs_find(r, r->body, key);
}

/* RFC 6265 cookie-string: name=value pairs separated by "; ". */
const char *
req_cookie(struct req *r, const char *name)
{
	const char	*h = req_header(r, "Cookie"), *p, *e;
	size_t		 nlen = strlen(name);

	if (h == NULL || strlen(h) > LIM_HEADER)
		return NULL;
	for (p = h; *p != '\0'; p = *e ? e + 1 : e) {
		while (*p == ' ')
			p++;
		if ((e = strchr(p, ';')) == NULL)
			e = p + strlen(p);
		if ((size_t)(e - p) > nlen && strncmp(p, name, nlen) == 0 &&
		    p[nlen] == '=')
			return req_keep(r, xstrndup(p + nlen + 1,
			    (size_t)(e - p - nlen - 1)));
	}
	return NULL;
}

static int
is_ip(const char *s)
{
	unsigned char	buf[16];

	return inet_pton(AF_INET, s, buf) == 1 ||
	    inet_pton(AF_INET6, s, buf) == 1;
}

static int
is_trusted(const char *ip)
{
	size_t	i;

	for (i = 0; i < cfg.ntrusted_proxies; i++)
		if (strcmp(cfg.trusted_proxies[i], ip) == 0)
			return 1;
	return 0;
}

/*
 * The client is REMOTE_ADDR, unless that is a trusted proxy: then the
 * rightmost X-Forwarded-For entry that is not itself a trusted proxy.
 */
void
req_client_ip(struct req *r)
{
	const char	*remote = req_env(r, "REMOTE_ADDR"), *xff;
	char		 cand[64];
	const char	*end, *start;
	size_t		 len;

	snprintf(r->client_ip, sizeof(r->client_ip), "%s",
	    remote && is_ip(remote) ? remote : "0.0.0.0");
	if (!is_trusted(r->client_ip))
		return;
	xff = req_header(r, "X-Forwarded-For");
	if (xff == NULL || strlen(xff) > LIM_HEADER)
		return;
	end = xff + strlen(xff);
	while (end > xff) {
		start = end;
		while (start > xff && start[-1] != ',')
			start--;
		while (start < end && *start == ' ')
			start++;
		len = (size_t)(end - start);
		while (len > 0 && start[len - 1] == ' ')
			len--;
		if (len == 0 || len >= sizeof(cand))
			return;
		memcpy(cand, start, len);
		cand[len] = '\0';
		if (!is_ip(cand))
			return;
		snprintf(r->client_ip, sizeof(r->client_ip), "%s", cand);
		if (!is_trusted(cand))
			return;
		end = start > xff ? start - 1 : xff;
	}
}

void
req_request_id(struct req *r)
{
	const char	*id = req_header(r, "X-Request-Id");
	unsigned char	 raw[16];

	if (id != NULL && valid_request_id(id)) {
		snprintf(r->request_id, sizeof(r->request_id), "%s", id);
		return;
	}
	if (rnd_bytes(raw, sizeof(raw)) != USHER_OK) {
		snprintf(r->request_id, sizeof(r->request_id), "unknown");
		return;
	}
	hex_encode(raw, sizeof(raw), r->request_id);
}

static size_t
read_in(struct req *r, char *buf, size_t len)
{
	size_t	n = 0;
	int	got;

	if (r->impl->cgi)
		return fread(buf, 1, len, stdin);
	while (n < len) {
		got = FCGX_GetStr(buf + n, (int)(len - n), r->impl->in);
		if (got <= 0)
			break;
		n += (size_t)got;
	}
	return n;
}

/*
 * Read the body, refusing (413) anything over the configured limit before
 * reading a byte of it. CONTENT_LENGTH is set by both servers.
 */
enum usher_err
req_read_body(struct req *r)
{
	const char	*cl = req_env(r, "CONTENT_LENGTH");
	int64_t		 len = 0;

	if (cl != NULL && *cl != '\0' &&
	    num_parse(cl, 0, INT64_MAX - 1, &len) != USHER_OK)
		return USHER_ERR_INVALID;
	if ((uint64_t)len > cfg.body_limit)
		return USHER_ERR_TOO_LARGE;
	if (len == 0)
		return USHER_OK;
	r->body = xmalloc((size_t)len + 1);
	r->bodylen = read_in(r, r->body, (size_t)len);
	r->body[r->bodylen] = '\0';
	if (r->bodylen != (size_t)len)
		return USHER_ERR_INVALID;
	return USHER_OK;
}

void
req_reset(struct req *r)
{
	struct http_impl	*h = r->impl;
	size_t			 i;

	for (i = 0; i < h->narena; i++)
		free(h->arena[i]);
	if (r->body != NULL) {
		explicit_bzero(r->body, r->bodylen);
		free(r->body);
	}
	json_object_put(r->json);
	user_free(r->auth.user);
	memset(r, 0, sizeof(*r));
	memset(h, 0, sizeof(*h));
	r->impl = h;
	log_set_request(NULL);
}

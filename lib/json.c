/* json.c -- strict JSON parsing on top of json-c, and declarative field checks */
#include "config.h"

#include <math.h>
#include <string.h>

#include <json-c/json.h>

#include "json.h"
#include "limits.h"
#include "log.h"
#include "valid.h"
#include "xmalloc.h"

/*
 * json-c silently keeps the last of duplicate keys, truncates keys at
 * \u0000 and, even when strict, takes raw control characters in strings,
 * so the raw text is scanned as well: those are refused,
 * and the number of keys of each object, in document order, is recorded to
 * be compared with what json-c kept.
 */
struct keycount {
	size_t	*n;
	size_t	 len, cap;
};

static int
scan_string(const char *buf, size_t len, size_t *i)
{
	size_t	j;

	for (j = *i + 1; j < len; j++) {
		if (buf[j] == '"') {
			*i = j;
			return 1;
		}
		/* RFC 8259 7: control characters must be escaped */
		if ((unsigned char)buf[j] < 0x20)
			return 0;
		if (buf[j] != '\\')
			continue;
		if (j + 1 >= len)
			return 0;
		if (buf[j + 1] == 'u' && j + 5 < len &&
		    strncmp(buf + j + 2, "0000", 4) == 0)
			return 0;
		j++;
	}
	return 0;
}

static int
scan_keys(const char *buf, size_t len, struct keycount *kc)
{
	size_t	stack[LIM_JSON_DEPTH + 1], depth = 0, i;
	int	keynext = 0;

	for (i = 0; i < len; i++) {
		switch (buf[i]) {
		case '{':
		case '[':
			if (depth >= LIM_JSON_DEPTH)
				return 0;
			if (buf[i] == '[') {
				stack[depth++] = (size_t)-1;
				keynext = 0;
				break;
			}
			if (kc->len == kc->cap) {
				kc->cap = kc->cap ? kc->cap * 2 : 16;
				kc->n = xrealloc(kc->n, kc->cap * sizeof(size_t));
			}
			kc->n[kc->len] = 0;
			stack[depth++] = kc->len++;
			keynext = 1;
			break;
		case '}':
		case ']':
			if (depth == 0)
				return 0;
			depth--;
			keynext = 0;
			break;
		case ',':
			keynext = depth > 0 && stack[depth - 1] != (size_t)-1;
			break;
		case '"':
			if (!scan_string(buf, len, &i))
				return 0;
			if (keynext && depth > 0)
				kc->n[stack[depth - 1]]++;
			keynext = 0;
			break;
		case '.':
			/* json-c takes "1." even when strict (RFC 8259 6) */
			if (i + 1 >= len || buf[i + 1] < '0' || buf[i + 1] > '9')
				return 0;
			break;
		default:
			break;
		}
	}
	return 1;
}

/*
 * Walk objects in document order; 0 if a count differs, a string has a
 * NUL or a number is not finite.
 */
static int
check_tree(struct json_object *o, const struct keycount *kc, size_t *idx)
{
	size_t	i, n;

	switch (json_object_get_type(o)) {
	case json_type_object:
		if (*idx >= kc->len ||
		    (size_t)json_object_object_length(o) != kc->n[*idx])
			return 0;
		(*idx)++;
		{
			json_object_object_foreach(o, key, val) {
				if (!valid_utf8(key, strlen(key)) ||
				    !check_tree(val, kc, idx))
					return 0;
			}
		}
		return 1;
	case json_type_array:
		n = json_object_array_length(o);
		for (i = 0; i < n; i++)
			if (!check_tree(json_object_array_get_idx(o, i), kc, idx))
				return 0;
		return 1;
	case json_type_string:
		/* json-c's own check lets overlong forms and surrogates by */
		return valid_utf8(json_object_get_string(o),
		    (size_t)json_object_get_string_len(o));
	case json_type_double:
		/* json-c takes NaN and Infinity even when strict; 1e400 is inf */
		return isfinite(json_object_get_double(o));
	default:
		return 1;
	}
}

enum usher_err
json_parse_strict(const char *buf, size_t len, struct json_object **out)
{
	struct json_tokener	*tok;
	struct json_object	*obj = NULL;
	struct keycount		 kc = { NULL, 0, 0 };
	enum usher_err		 rc = USHER_ERR_INVALID_JSON;
	size_t			 off, idx = 0;

	*out = NULL;
	if (buf == NULL || len == 0 || memchr(buf, '\0', len) != NULL ||
	    len > INT32_MAX)
		return rc;
	if ((tok = json_tokener_new_ex(LIM_JSON_DEPTH + 1)) == NULL) {
		log_error("json_tokener_new_ex failed");
		return USHER_ERR_INTERNAL;
	}
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT |
	    JSON_TOKENER_VALIDATE_UTF8);
	obj = json_tokener_parse_ex(tok, buf, (int)len);
	if (obj == NULL || json_tokener_get_error(tok) != json_tokener_success)
		goto out;
	for (off = json_tokener_get_parse_end(tok); off < len; off++)
		if (strchr(" \t\r\n", buf[off]) == NULL)
			goto out;
	if (!scan_keys(buf, len, &kc) || !check_tree(obj, &kc, &idx) ||
	    idx != kc.len)
		goto out;
	*out = obj;
	obj = NULL;
	rc = USHER_OK;
out:
	json_object_put(obj);
	json_tokener_free(tok);
	free(kc.n);
	return rc;
}

static const char *
check_one(struct json_object *obj, const struct jfield *f)
{
	struct json_object	*v;
	const char		*s;
	int64_t			 n;

	if (!json_object_object_get_ex(obj, f->name, &v))
		return (f->flags & JF_REQUIRED) ? "required" : NULL;
	if (v == NULL)
		return (f->flags & JF_NULLABLE) ? NULL : "invalid_type";
	switch (f->type) {
	case JT_STRING:
		if (!json_object_is_type(v, json_type_string))
			return "invalid_type";
		s = json_object_get_string(v);
		if (f->maxlen > 0 &&
		    (size_t)json_object_get_string_len(v) > f->maxlen)
			return "too_long";
		if (f->valid != NULL && !f->valid(s))
			return f->code != NULL ? f->code : "invalid_format";
		return NULL;
	case JT_BOOL:
		return json_object_is_type(v, json_type_boolean) ? NULL :
		    "invalid_type";
	case JT_INT:
		if (!json_object_is_type(v, json_type_int))
			return "invalid_type";
		n = json_object_get_int64(v);
		if (n == INT64_MAX || n == INT64_MIN || n < f->min || n > f->max)
			return "out_of_range";
		return NULL;
	case JT_OBJECT:
		return json_object_is_type(v, json_type_object) ? NULL :
		    "invalid_type";
	case JT_ARRAY:
		return json_object_is_type(v, json_type_array) ? NULL :
		    "invalid_type";
	default:
		return "invalid_type";
	}
}

size_t
json_check(struct json_object *obj, const struct jfield *f, size_t nf,
    struct jerr *errs, size_t max)
{
	size_t		 i, n = 0;
	const char	*code;

	if (!json_object_is_type(obj, json_type_object)) {
		if (max > 0) {
			errs[0].field = "";
			errs[0].code = "invalid_type";
		}
		return 1;
	}
	for (i = 0; i < nf; i++) {
		if ((code = check_one(obj, &f[i])) == NULL)
			continue;
		if (n < max) {
			errs[n].field = f[i].name;
			errs[n].code = code;
		}
		n++;
	}
	return n;
}

const char *
json_str(struct json_object *obj, const char *key)
{
	struct json_object	*v;

	if (obj == NULL || !json_object_object_get_ex(obj, key, &v) ||
	    !json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}

int
json_has(struct json_object *obj, const char *key)
{
	return obj != NULL && json_object_object_get_ex(obj, key, NULL);
}

int
json_is_null(struct json_object *obj, const char *key)
{
	struct json_object	*v;

	return obj != NULL && json_object_object_get_ex(obj, key, &v) &&
	    v == NULL;
}

int
json_flag(struct json_object *obj, const char *key)
{
	struct json_object	*v;

	if (obj == NULL || !json_object_object_get_ex(obj, key, &v) ||
	    !json_object_is_type(v, json_type_boolean))
		return 0;
	return json_object_get_boolean(v);
}

int64_t
json_int64(struct json_object *obj, const char *key)
{
	struct json_object	*v;

	if (obj == NULL || !json_object_object_get_ex(obj, key, &v) ||
	    !json_object_is_type(v, json_type_int))
		return 0;
	return json_object_get_int64(v);
}

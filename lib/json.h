/* json.h -- strict JSON bodies and declarative field checks (cf. kcgi's kvalid) */
#ifndef USHER_JSON_H
#define USHER_JSON_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"

struct json_object;

/*
 * Parse exactly one JSON value from buf[0..len): strict RFC 8259 (no
 * comments, single quotes, NaN), valid UTF-8, no NUL anywhere (raw or
 * \u0000), no duplicate keys, depth <= LIM_JSON_DEPTH, nothing after the
 * value but whitespace. The caller owns *out (json_object_put).
 * Returns USHER_OK or USHER_ERR_INVALID_JSON.
 */
enum usher_err	 json_parse_strict(const char *buf, size_t len,
		    struct json_object **out);

enum jtype { JT_STRING, JT_BOOL, JT_INT, JT_OBJECT, JT_ARRAY, JT__MAX };

#define JF_REQUIRED	0x01	/* absent is an error */
#define JF_NULLABLE	0x02	/* JSON null accepted (means "clear") */

/* One declared field of a request body. */
struct jfield {
	const char	*name;
	enum jtype	 type;
	unsigned	 flags;
	size_t		 maxlen;	/* strings: bytes; 0: no limit beyond body */
	int		(*valid)(const char *); /* strings: 1 if acceptable */
	const char	*code;		/* error code when valid() says no */
	int64_t		 min, max;	/* JT_INT bounds */
};

/* One field problem, for the problem+json `errors` list. */
struct jerr {
	const char	*field;		/* static: from the jfield table */
	const char	*code;		/* static: missing, invalid_type, ... */
};

/*
 * Check `obj` (must be an object, else one error on field "") against the
 * table. Fills up to `max` errors and returns how many were found (0: all
 * good). Codes: "required", "invalid_type", "too_long", "invalid_format"
 * (or the field's own code), "out_of_range".
 */
size_t		 json_check(struct json_object *obj, const struct jfield *f,
		    size_t nf, struct jerr *errs, size_t max);

/* Getters for fields json_check accepted. NULL / 0 when absent or null. */
const char	*json_str(struct json_object *obj, const char *key);
int		 json_has(struct json_object *obj, const char *key);
int		 json_is_null(struct json_object *obj, const char *key);
int		 json_flag(struct json_object *obj, const char *key);
int64_t		 json_int64(struct json_object *obj, const char *key);

#endif /* USHER_JSON_H */

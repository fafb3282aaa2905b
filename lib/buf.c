/* buf.c -- growable buffers with a hard cap, and bounded whole-file reads */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "xmalloc.h"

void
buf_init(struct buf *b, size_t max)
{
	memset(b, 0, sizeof(*b));
	b->max = max;
}

void
buf_add(struct buf *b, const char *s, size_t n)
{
	size_t	cap;

	if (b->over || n > b->max - b->len) {
		b->over = 1;
		return;
	}
	if (b->len + n + 1 > b->cap) {
		cap = b->cap == 0 ? 256 : b->cap;
		while (cap < b->len + n + 1)
			cap *= 2;
		b->p = xrealloc(b->p, cap);
		b->cap = cap;
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

void
buf_str(struct buf *b, const char *s)
{
	buf_add(b, s, strlen(s));
}

void
buf_free(struct buf *b)
{
	free(b->p);
	buf_init(b, b->max);
}

enum usher_err
buf_take(struct buf *b, char **out, size_t *outlen)
{
	if (b->over) {
		buf_free(b);
		return USHER_ERR_TOO_LARGE;
	}
	*out = b->p != NULL ? b->p : xstrdup("");
	if (outlen != NULL)
		*outlen = b->len;
	buf_init(b, b->max);
	return USHER_OK;
}

enum usher_err
file_read(const char *path, size_t max, char **out, size_t *outlen)
{
	FILE		*f;
	char		*p;
	size_t		 n;
	enum usher_err	 rc = USHER_ERR_INVALID;

	*out = NULL;
	if ((f = fopen(path, "re")) == NULL)
		return errno == ENOENT ? USHER_ERR_NOT_FOUND : USHER_ERR_CONFIG;
	p = xmalloc(max + 1);
	n = fread(p, 1, max + 1, f);
	/* a folder opens, then fails to read: that is no empty file */
	if (!ferror(f))
		rc = n > max ? USHER_ERR_TOO_LARGE : USHER_OK;
	fclose(f);
	if (rc != USHER_OK) {
		free(p);
		return rc;
	}
	p[n] = '\0';
	*out = p;
	*outlen = n;
	return USHER_OK;
}

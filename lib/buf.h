/* buf.h -- growable buffers with a hard cap (curl's dynbuf), and reading a
 * whole file of bounded size */
#ifndef USHER_BUF_H
#define USHER_BUF_H

#include <stddef.h>

#include "err.h"

/*
 * Past `max` bytes a buffer stops growing and remembers so, so writers
 * need not check each append: buf_take() reports it once at the end.
 */
struct buf {
	char	*p;		/* NUL-terminated once anything was added */
	size_t	 len, cap, max;
	int	 over;
};

void		buf_init(struct buf *, size_t max);
void		buf_add(struct buf *, const char *, size_t);
void		buf_str(struct buf *, const char *);
/* Release the text; the buffer is empty again (same cap). */
void		buf_free(struct buf *);
/*
 * Hand the text to *out (the caller frees it; "" if nothing was added),
 * its length to *outlen unless NULL. USHER_ERR_TOO_LARGE, the text freed,
 * when the cap was reached. Either way the buffer is empty after.
 */
enum usher_err	buf_take(struct buf *, char **out, size_t *outlen);

/*
 * Read `path` whole into a new NUL-terminated string (*out, caller frees;
 * *outlen its length). USHER_ERR_NOT_FOUND when it does not exist,
 * USHER_ERR_CONFIG when it cannot be opened (errno says why),
 * USHER_ERR_INVALID when it opened but cannot be read (a folder, say),
 * USHER_ERR_TOO_LARGE past `max` bytes. Logs nothing; the content is not
 * checked (it may hold a NUL).
 */
enum usher_err	file_read(const char *path, size_t max, char **out,
		    size_t *outlen);

#endif /* USHER_BUF_H */

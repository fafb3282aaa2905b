/* xmalloc.h -- allocation that never returns NULL: it logs and exits instead */
#ifndef USHER_XMALLOC_H
#define USHER_XMALLOC_H

#include <stddef.h>

void	*xmalloc(size_t);
void	*xcalloc(size_t, size_t);
void	*xrealloc(void *, size_t);
char	*xstrdup(const char *);
char	*xstrndup(const char *, size_t);
/* snprintf into a new string; caller frees. */
char	*xasprintf(const char *, ...) __attribute__((format(printf, 1, 2)));

#endif /* USHER_XMALLOC_H */

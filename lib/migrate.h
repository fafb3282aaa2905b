/* migrate.h -- numbered SQL migrations and the schema version */
#ifndef USHER_MIGRATE_H
#define USHER_MIGRATE_H

#include "err.h"

/*
 * Apply every sql/NNNN-name.sql of `dir` not yet recorded, in order, each
 * in one transaction with its record. Applying twice is a no-op. *applied
 * counts what ran.
 */
enum usher_err	migrate_apply(const char *dir, int *applied);
/* Highest applied migration, 0 for none. */
enum usher_err	migrate_version(int *version);

#endif /* USHER_MIGRATE_H */

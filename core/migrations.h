/* migrations.h — the SQL migrations embedded in the program at build time (the build
 * generates the table from the files in sql/). Knows nothing of how they are applied. */
#ifndef DMCP_MIGRATIONS_H
#define DMCP_MIGRATIONS_H

#include <stddef.h>

struct migration {
	int version;      /* the leading number of the file name */
	const char *name; /* the file name without .sql */
	const char *sql;  /* the file's text */
};

extern const struct migration dmcp_migrations[];
extern const size_t dmcp_migrations_count;

#endif

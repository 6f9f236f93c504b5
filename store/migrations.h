/* SPDX-License-Identifier: Apache-2.0 */
/*
 * store/migrations.h — the catalog's schema history. Entry i (0-based) takes the catalog
 * from version i to i+1. Entries are never edited once released; changes are new entries.
 */
#ifndef ARCA_STORE_MIGRATIONS_H
#define ARCA_STORE_MIGRATIONS_H

#include <stddef.h>

extern const char *const arca__migrations[];
extern const size_t arca__n_migrations;

#endif

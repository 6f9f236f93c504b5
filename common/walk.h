/* SPDX-License-Identifier: Apache-2.0 */
/*
 * common/walk.h — walking a folder tree, bounded (64 levels deep), entries in readdir
 * order. The caller's visitor decides what each entry means: `arca add` stores files and
 * follows links to files; signature checks skip ignored paths and refuse links unless the
 * signature allows them. Internal to libarca.
 */
#ifndef ARCA_COMMON_WALK_H
#define ARCA_COMMON_WALK_H

#include <sys/stat.h>

#include "arca/error.h"

#define ARCA_WALK_MAX_DEPTH 64

enum {
	ARCA_WALK_NEXT = 0,     /* go on (a folder is entered) */
	ARCA_WALK_SKIP = 1,     /* do not enter this folder */
	ARCA_WALK_ENTER = 2,    /* enter this symbolic link as a folder */
};

/* One entry: its path relative to the root ('/' separated, checked to stay inside the
 * root), its path as opened, and lstat's answer. Returns an ARCA_WALK_* value, or an error
 * to stop the walk. */
typedef int (*arca_walk_fn)(void *ctx, const char *rel, const char *abs, const struct stat *lst);

arca_err arca_walk(const char *root, arca_walk_fn visit, void *ctx);

#endif

/* SPDX-License-Identifier: Apache-2.0 */
/*
 * common/path.h — joining paths and deciding whether a relative path from outside (a hub
 * listing, a bundle, a local folder) is safe to create below a directory of ours.
 */
#ifndef ARCA_COMMON_PATH_H
#define ARCA_COMMON_PATH_H

#include "arca/error.h"

#include <stddef.h>

/* "a/b" from "a" and "b"; malloc'ed, NULL on out of memory. */
char *arca_path_join(const char *a, const char *b);

/* ARCA_OK when `path` (len bytes, may contain NULs) is a relative POSIX path that stays
 * below its root: non-empty, at most 4096 bytes, no leading '/', no empty, "." or ".."
 * segments, no NUL, backslash or control characters, no drive letter. Otherwise
 * ARCA_EINVALID with a message naming the path and the rule it breaks. */
arca_err arca_path_check_relative(const char *path, size_t len);

#endif

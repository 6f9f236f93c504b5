/* SPDX-License-Identifier: Apache-2.0 */
/*
 * common/walk.c — the bounded folder walk (common/walk.h).
 */
#include "common/walk.h"

#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/path.h"

static arca_err walk_dir(const char *root, const char *rel, const char *abs, int depth,
	arca_walk_fn visit, void *ctx)
{
	if (depth > ARCA_WALK_MAX_DEPTH)
		return arca_error_set(ARCA_EINVALID, "%s/%s: folders nested deeper than %d", root, rel,
			ARCA_WALK_MAX_DEPTH);
	DIR *dir = opendir(abs);
	if (!dir)
		return arca_error_errno(errno, "open folder %s", abs);
	arca_err err = ARCA_OK;
	struct dirent *e;
	while (err == ARCA_OK && (errno = 0, e = readdir(dir))) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		char *child_rel = rel[0] ? arca_path_join(rel, e->d_name) : strdup(e->d_name);
		char *child_abs = arca_path_join(abs, e->d_name);
		struct stat lst;
		if (!child_rel || !child_abs) {
			err = arca_error_set(ARCA_ENOMEM, "walk %s: out of memory", root);
		} else if ((err = arca_path_check_relative(child_rel, strlen(child_rel))) < 0) {
			arca_error_prefix(err, "%s", root);
		} else if (lstat(child_abs, &lst) != 0) {
			err = arca_error_errno(errno, "stat %s", child_abs);
		} else {
			int what = visit(ctx, child_rel, child_abs, &lst);
			if (what < 0)
				err = what;
			else if ((what == ARCA_WALK_NEXT && S_ISDIR(lst.st_mode)) ||
					what == ARCA_WALK_ENTER)
				err = walk_dir(root, child_rel, child_abs, depth + 1, visit, ctx);
		}
		free(child_rel);
		free(child_abs);
	}
	if (err == ARCA_OK && errno != 0)
		err = arca_error_errno(errno, "read folder %s", abs);
	closedir(dir);
	return err;
}

arca_err arca_walk(const char *root, arca_walk_fn visit, void *ctx)
{
	return walk_dir(root, "", root, 0, visit, ctx);
}

/* SPDX-License-Identifier: Apache-2.0 */
/*
 * store/objects.c — listing what is physically in objects/sha256/, for fsck and gc, which
 * compare it with the catalog. Anything that is not a two-hex-digit folder holding
 * 62-hex-digit files is reported as stray, never deleted blindly.
 */
#include "store/store_internal.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "common/path.h"

typedef struct {
	arca_store__object *items;
	size_t n, cap;
} object_list;

static arca_err push(object_list *list, const char *sha256, const char *stray, uint64_t size)
{
	if (list->n == list->cap) {
		size_t cap = list->cap ? 2 * list->cap : 256;
		arca_store__object *grown = realloc(list->items, cap * sizeof(*grown));
		if (!grown)
			return arca_error_set(ARCA_ENOMEM, "list objects: out of memory");
		list->items = grown;
		list->cap = cap;
	}
	arca_store__object *o = &list->items[list->n];
	memset(o, 0, sizeof(*o));
	if (sha256)
		snprintf(o->sha256, sizeof(o->sha256), "%s", sha256);
	if (stray && !(o->path = strdup(stray)))
		return arca_error_set(ARCA_ENOMEM, "list objects: out of memory");
	o->size = size;
	list->n++;
	return ARCA_OK;
}

static int is_hex_name(const char *s, size_t n)
{
	return strlen(s) == n && arca_hex_is_lower(s, n);
}

static int compare_objects(const void *a, const void *b)
{
	const arca_store__object *x = a, *y = b;
	if (!x->sha256[0] || !y->sha256[0])
		return (x->sha256[0] == 0) - (y->sha256[0] == 0);
	return strcmp(x->sha256, y->sha256);
}

static arca_err scan_fanout(object_list *list, const char *objects_dir, const char *fan)
{
	char *dir_path = arca_path_join(objects_dir, fan);
	if (!dir_path)
		return arca_error_set(ARCA_ENOMEM, "list objects: out of memory");
	DIR *dir = opendir(dir_path);
	if (!dir) {
		arca_err err = arca_error_errno(errno, "open %s", dir_path);
		free(dir_path);
		return err;
	}
	arca_err err = ARCA_OK;
	struct dirent *e;
	while (err == ARCA_OK && (e = readdir(dir))) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		char rel[300];
		snprintf(rel, sizeof(rel), "%s/%s", fan, e->d_name);
		struct stat st;
		char *path = arca_path_join(dir_path, e->d_name);
		if (!path) {
			err = arca_error_set(ARCA_ENOMEM, "list objects: out of memory");
			break;
		}
		int ok = lstat(path, &st) == 0;
		free(path);
		if (ok && S_ISREG(st.st_mode) && is_hex_name(e->d_name, 62)) {
			char sha256[ARCA_SHA256_HEX];
			memcpy(sha256, fan, 2);
			memcpy(sha256 + 2, e->d_name, 63); /* 62 digits and the NUL */
			err = push(list, sha256, NULL, (uint64_t)st.st_size);
		} else {
			err = push(list, NULL, rel, ok ? (uint64_t)st.st_size : 0);
		}
	}
	closedir(dir);
	free(dir_path);
	return err;
}

arca_err arca_store__list_objects(arca_store__object **out, size_t *n_out, arca_store *store)
{
	*out = NULL;
	*n_out = 0;
	object_list list = { 0 };
	DIR *dir = opendir(store->objects_dir);
	if (!dir)
		return arca_error_errno(errno, "open %s", store->objects_dir);
	arca_err err = ARCA_OK;
	struct dirent *e;
	while (err == ARCA_OK && (e = readdir(dir))) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		struct stat st;
		char *path = arca_path_join(store->objects_dir, e->d_name);
		if (!path) {
			err = arca_error_set(ARCA_ENOMEM, "list objects: out of memory");
			break;
		}
		int is_dir = lstat(path, &st) == 0 && S_ISDIR(st.st_mode);
		free(path);
		if (is_dir && is_hex_name(e->d_name, 2))
			err = scan_fanout(&list, store->objects_dir, e->d_name);
		else
			err = push(&list, NULL, e->d_name, 0);
	}
	closedir(dir);
	if (err < 0) {
		arca_store__objects_free(list.items, list.n);
		return err;
	}
	if (list.n)
		qsort(list.items, list.n, sizeof(*list.items), compare_objects);
	*out = list.items;
	*n_out = list.n;
	return ARCA_OK;
}

void arca_store__objects_free(arca_store__object *objects, size_t n)
{
	for (size_t i = 0; objects && i < n; i++)
		free(objects[i].path);
	free(objects);
}

/* SPDX-License-Identifier: Apache-2.0 */
/*
 * store/partial.c — downloads that outlive a process (see "partial downloads" in
 * arca/store.h): tmp/partial-<key> with the data, tmp/partial-<key>.state with the caller's
 * record of what is there, both kept until the blob is committed or discarded.
 */
#include "store/store_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/io.h"

#define MAX_STATE (16u << 20)

struct arca_partial {
	arca_store *store;
	arca_atomic_file file; /* the data; tmp_path is tmp/partial-<key> */
	char *state_path;
	char *state;           /* saved state, or NULL */
	uint64_t size;
};

static int key_is_safe(const char *key)
{
	size_t n = strlen(key);
	return n > 0 && n <= 128 && arca_hex_is_lower(key, n);
}

/* State files start with "<size>\n"; a different size means a different file. */
static void load_state(arca_partial *p)
{
	char *text = NULL;
	if (arca_io_read_file(&text, NULL, p->state_path, MAX_STATE) < 0) {
		arca_error_clear();
		return;
	}
	char *end;
	unsigned long long size = strtoull(text, &end, 10);
	if (end == text || *end != '\n' || size != p->size) {
		free(text);
		return;
	}
	p->state = strdup(end + 1);
	free(text);
}

arca_err arca_store_partial_open(arca_partial **out, arca_store *store, const char *key,
	uint64_t size)
{
	*out = NULL;
	if (!key_is_safe(key))
		return arca_error_set(ARCA_EINVALID, "partial download key '%.80s' is not hex", key);
	arca_partial *p = calloc(1, sizeof(*p));
	if (!p)
		return arca_error_set(ARCA_ENOMEM, "partial download: out of memory");
	p->store = store;
	p->size = size;
	p->file.fd = -1;
	arca_err err;
	if (asprintf(&p->file.tmp_path, "%s/partial-%s", store->tmp_dir, key) < 0 ||
	    asprintf(&p->state_path, "%s/partial-%s.state", store->tmp_dir, key) < 0) {
		err = arca_error_set(ARCA_ENOMEM, "partial download: out of memory");
		goto fail;
	}
	p->file.fd = open(p->file.tmp_path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (p->file.fd < 0) {
		err = arca_error_errno(errno, "open %s", p->file.tmp_path);
		goto fail;
	}
	if (flock(p->file.fd, LOCK_EX | LOCK_NB) != 0) {
		err = errno == EWOULDBLOCK ?
			arca_error_set(ARCA_ELOCKED, "another arca process is downloading the same file "
				"(%s)", p->file.tmp_path) :
			arca_error_errno(errno, "lock %s", p->file.tmp_path);
		goto fail;
	}
	load_state(p);
	struct stat st;
	if (fstat(p->file.fd, &st) != 0) {
		err = arca_error_errno(errno, "stat %s", p->file.tmp_path);
		goto fail;
	}
	if (!p->state && st.st_size != 0 && ftruncate(p->file.fd, 0) != 0) {
		err = arca_error_errno(errno, "truncate %s", p->file.tmp_path);
		goto fail;
	}
	if (ftruncate(p->file.fd, (off_t)size) != 0) {
		err = arca_error_errno(errno, "size %s to %llu bytes", p->file.tmp_path,
			(unsigned long long)size);
		goto fail;
	}
	*out = p;
	return ARCA_OK;
fail:
	arca_partial_close(p, 0);
	return err;
}

int arca_partial_fd(const arca_partial *partial)
{
	return partial->file.fd;
}

const char *arca_partial_saved_state(const arca_partial *partial)
{
	return partial->state;
}

arca_err arca_partial_save_state(arca_partial *partial, const char *state)
{
	char *text;
	if (asprintf(&text, "%llu\n%s", (unsigned long long)partial->size, state) < 0)
		return arca_error_set(ARCA_ENOMEM, "partial download: out of memory");
	arca_err err = arca_io_write_file(partial->state_path, text, strlen(text), 0600);
	free(text);
	return err;
}

arca_err arca_partial_reset(arca_partial *partial)
{
	free(partial->state);
	partial->state = NULL;
	if (unlink(partial->state_path) != 0 && errno != ENOENT)
		return arca_error_errno(errno, "remove %s", partial->state_path);
	if (ftruncate(partial->file.fd, 0) != 0 ||
	    ftruncate(partial->file.fd, (off_t)partial->size) != 0)
		return arca_error_errno(errno, "reset %s", partial->file.tmp_path);
	return ARCA_OK;
}

arca_err arca_partial_commit(arca_partial *partial, const arca_file_digests *digests)
{
	if (digests->size != partial->size)
		return arca_error_set(ARCA_EINVALID, "partial %s: %llu bytes expected, %llu hashed",
			partial->file.tmp_path, (unsigned long long)partial->size,
			(unsigned long long)digests->size);
	arca_err err = arca_store__install_blob(partial->store, &partial->file, digests);
	if (err < 0)
		return err;
	if (unlink(partial->state_path) != 0 && errno != ENOENT)
		return arca_error_errno(errno, "remove %s", partial->state_path);
	return ARCA_OK;
}

void arca_partial_close(arca_partial *partial, int discard)
{
	if (!partial)
		return;
	if (discard) {
		if (partial->file.tmp_path)
			unlink(partial->file.tmp_path);
		if (partial->state_path)
			unlink(partial->state_path);
	}
	/* dispose would unlink the data: keep it unless discarding */
	if (!discard) {
		free(partial->file.tmp_path);
		partial->file.tmp_path = NULL;
	}
	arca_atomic_dispose(&partial->file);
	free(partial->state_path);
	free(partial->state);
	free(partial);
}

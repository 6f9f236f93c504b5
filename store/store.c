/* SPDX-License-Identifier: Apache-2.0 */
/*
 * store/store.c — finding, creating and opening a store, and its lock.
 *
 * A folder is a store when it holds catalog.db and objects/sha256/. `arca init` makes both
 * (and tmp/, keys/, lock); opening anything else is refused with a message that says so, so
 * a mistyped --store never gets a catalog silently created in it.
 */
#include "store/store_internal.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <time.h>
#include <unistd.h>

#include "common/io.h"
#include "common/path.h"

arca_err arca_store_default_home(char **out)
{
	const char *home = getenv("ARCA_HOME");
	int n;
	if (home && home[0])
		n = asprintf(out, "%s", home);
	else if ((home = getenv("XDG_DATA_HOME")) && home[0] == '/')
		n = asprintf(out, "%s/arca", home);
	else if ((home = getenv("HOME")) && home[0])
		n = asprintf(out, "%s/.local/share/arca", home);
	else
		return arca_error_set(ARCA_ENOTFOUND,
			"no store location: set ARCA_HOME or HOME, or pass --store DIR");
	if (n < 0) {
		*out = NULL;
		return arca_error_set(ARCA_ENOMEM, "store path: out of memory");
	}
	return ARCA_OK;
}

char *arca_store__blob_path(const arca_store *store, const char *sha256)
{
	char *path;
	if (asprintf(&path, "%s/%.2s/%s", store->objects_dir, sha256, sha256 + 2) < 0)
		return NULL;
	return path;
}

arca_err arca_store__check_hash(const char *sha256)
{
	if (!sha256 || !arca_hex_is_lower(sha256, 64))
		return arca_error_set(ARCA_EINVALID, "'%.80s' is not a sha256 (64 lowercase hex digits)",
			sha256 ? sha256 : "(null)");
	return ARCA_OK;
}

/* The entries `arca init` creates; a folder holding only these is a (partial) store. */
static const char *const store_entries[] = {
	"objects", "tmp", "keys", "lock", "catalog.db", "catalog.db-wal", "catalog.db-shm",
};

static int is_store_entry(const char *name)
{
	for (size_t i = 0; i < sizeof(store_entries) / sizeof(store_entries[0]); i++)
		if (strcmp(name, store_entries[i]) == 0)
			return 1;
	return 0;
}

/* ARCA_OK when home is missing, empty, or holds only store entries. */
static arca_err check_init_target(const char *home)
{
	DIR *dir = opendir(home);
	if (!dir) {
		if (errno == ENOENT)
			return ARCA_OK;
		return arca_error_errno(errno, "init %s", home);
	}
	arca_err err = ARCA_OK;
	struct dirent *e;
	while ((e = readdir(dir))) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..") || is_store_entry(e->d_name))
			continue;
		err = arca_error_set(ARCA_EEXISTS,
			"init %s: the folder is not empty and is not an arca store (it holds '%s')", home,
			e->d_name);
		break;
	}
	closedir(dir);
	return err;
}

static arca_err make_dir(const char *home, const char *sub, unsigned mode)
{
	char *path = arca_path_join(home, sub);
	if (!path)
		return arca_error_set(ARCA_ENOMEM, "init %s: out of memory", home);
	arca_err err = arca_io_mkdirs(path, mode);
	free(path);
	return err;
}

arca_err arca_store_init(const char *home, int *created_out)
{
	*created_out = 0;
	arca_err err = check_init_target(home);
	if (err < 0)
		return err;
	char *catalog_path = arca_path_join(home, "catalog.db");
	char *lock_path = arca_path_join(home, "lock");
	if (!catalog_path || !lock_path) {
		err = arca_error_set(ARCA_ENOMEM, "init %s: out of memory", home);
		goto cleanup;
	}
	*created_out = access(catalog_path, F_OK) != 0;
	if ((err = arca_io_mkdirs(home, 0755)) < 0 ||
	    (err = make_dir(home, "objects/sha256", 0755)) < 0 ||
	    (err = make_dir(home, "tmp", 0700)) < 0 ||
	    (err = make_dir(home, "keys", 0700)) < 0)
		goto cleanup;
	int fd = open(lock_path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0) {
		err = arca_error_errno(errno, "init %s: create lock file", home);
		goto cleanup;
	}
	close(fd);
	/* the catalog comes last: its presence is what makes the folder a store */
	arca_catalog *cat;
	if ((err = arca_catalog_open(&cat, catalog_path, 1)) < 0)
		goto cleanup;
	arca_catalog_free(cat);
	err = arca_io_fsync_dir(home);
cleanup:
	free(catalog_path);
	free(lock_path);
	return err;
}

arca_err arca_store_open(arca_store **out, const char *home)
{
	*out = NULL;
	struct stat st;
	if (stat(home, &st) != 0) {
		if (errno == ENOENT)
			return arca_error_set(ARCA_ENOTFOUND,
				"no store at %s (create one with: arca init --store %s)", home, home);
		return arca_error_errno(errno, "open store %s", home);
	}
	if (!S_ISDIR(st.st_mode))
		return arca_error_set(ARCA_ENOTFOUND, "%s is not a directory, so not an arca store", home);

	arca_store *store = calloc(1, sizeof(*store));
	if (!store)
		return arca_error_set(ARCA_ENOMEM, "open store %s: out of memory", home);
	store->lock_fd = -1;
	arca_err err;
	char *catalog_path = NULL;
	store->home = strdup(home);
	store->objects_dir = arca_path_join(home, "objects/sha256");
	store->tmp_dir = arca_path_join(home, "tmp");
	catalog_path = arca_path_join(home, "catalog.db");
	if (!store->home || !store->objects_dir || !store->tmp_dir || !catalog_path) {
		err = arca_error_set(ARCA_ENOMEM, "open store %s: out of memory", home);
		goto fail;
	}
	if (access(catalog_path, F_OK) != 0 || stat(store->objects_dir, &st) != 0 ||
	    !S_ISDIR(st.st_mode)) {
		err = arca_error_set(ARCA_ENOTFOUND,
			"%s is not an arca store (no catalog.db or objects/); create one with: "
			"arca init --store %s", home, home);
		goto fail;
	}
	if ((err = make_dir(home, "tmp", 0700)) < 0)
		goto fail;
	if ((err = arca_catalog_open(&store->catalog, catalog_path, 0)) < 0)
		goto fail;
	free(catalog_path);
	*out = store;
	return ARCA_OK;
fail:
	free(catalog_path);
	arca_store_free(store);
	return err;
}

void arca_store_free(arca_store *store)
{
	if (!store)
		return;
	arca_store_unlock(store);
	arca_catalog_free(store->catalog);
	free(store->home);
	free(store->objects_dir);
	free(store->tmp_dir);
	free(store);
}

const char *arca_store_home(const arca_store *store)
{
	return store->home;
}

arca_catalog *arca_store_catalog(arca_store *store)
{
	return store->catalog;
}

/* ------------------------------------------------------------------ locking */

/* Names the processes holding a flock on the lock file, from /proc/locks. */
static void describe_holders(char *buf, size_t cap, int fd)
{
	snprintf(buf, cap, "another process");
	struct stat st;
	FILE *locks = fopen("/proc/locks", "re");
	if (!locks || fstat(fd, &st) != 0) {
		if (locks)
			fclose(locks);
		return;
	}
	char line[256];
	size_t used = 0;
	while (fgets(line, sizeof(line), locks)) {
		char kind[16], access_mode[16];
		int pid;
		unsigned major, minor;
		unsigned long long ino;
		if (sscanf(line, "%*d: %15s %*s %15s %d %x:%x:%llu", kind, access_mode, &pid, &major,
				&minor, &ino) != 6)
			continue;
		if (strcmp(kind, "FLOCK") != 0 || ino != (unsigned long long)st.st_ino ||
		    makedev(major, minor) != st.st_dev)
			continue;
		char cmd_path[64], cmd[128] = "";
		snprintf(cmd_path, sizeof(cmd_path), "/proc/%d/cmdline", pid);
		FILE *f = fopen(cmd_path, "re");
		if (f) {
			size_t n = fread(cmd, 1, sizeof(cmd) - 1, f);
			fclose(f);
			for (size_t i = 0; i + 1 < n; i++)
				if (cmd[i] == '\0')
					cmd[i] = ' ';
			cmd[n] = '\0';
		}
		int w = snprintf(buf + used, cap - used, "%spid %d (%s, %s)", used ? ", " : "", pid,
			cmd[0] ? cmd : "?", strcmp(access_mode, "WRITE") == 0 ? "exclusive" : "shared");
		if (w < 0 || (size_t)w >= cap - used)
			break;
		used += (size_t)w;
	}
	fclose(locks);
}

arca_err arca_store_lock(arca_store *store, arca_lock_mode mode, int timeout_ms,
	arca_lock_wait_cb on_wait, void *payload)
{
	arca_store_unlock(store);
	char *lock_path = arca_path_join(store->home, "lock");
	if (!lock_path)
		return arca_error_set(ARCA_ENOMEM, "lock %s: out of memory", store->home);
	int fd = open(lock_path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0) {
		arca_err err = arca_error_errno(errno, "open lock file %s", lock_path);
		free(lock_path);
		return err;
	}
	free(lock_path);
	int op = mode == ARCA_LOCK_EXCLUSIVE ? LOCK_EX : LOCK_SH;
	struct timespec start;
	clock_gettime(CLOCK_MONOTONIC, &start);
	int told = 0;
	while (flock(fd, op | LOCK_NB) != 0) {
		if (errno == EINTR)
			continue;
		if (errno != EWOULDBLOCK) {
			arca_err err = arca_error_errno(errno, "lock store %s", store->home);
			close(fd);
			return err;
		}
		struct timespec now;
		clock_gettime(CLOCK_MONOTONIC, &now);
		long waited_ms = (now.tv_sec - start.tv_sec) * 1000 +
			(now.tv_nsec - start.tv_nsec) / 1000000;
		if (timeout_ms >= 0 && waited_ms >= timeout_ms) {
			char holders[512];
			describe_holders(holders, sizeof(holders), fd);
			close(fd);
			return arca_error_set(ARCA_ELOCKED,
				"store %s is in use by %s; %s after %d ms (try again when it is done)",
				store->home, holders, timeout_ms ? "gave up" : "not waiting", timeout_ms);
		}
		if (!told && on_wait) {
			char holders[512];
			describe_holders(holders, sizeof(holders), fd);
			on_wait(holders, payload);
		}
		told = 1;
		struct timespec pause = { 0, 50 * 1000 * 1000 };
		nanosleep(&pause, NULL);
	}
	store->lock_fd = fd;
	return ARCA_OK;
}

void arca_store_unlock(arca_store *store)
{
	if (store->lock_fd >= 0) {
		flock(store->lock_fd, LOCK_UN);
		close(store->lock_fd);
		store->lock_fd = -1;
	}
}

/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tests/support.c — see support.h.
 */
#define _XOPEN_SOURCE 700
#include "support.h"

#include <dirent.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zstd.h>

char *t_tempdir(void)
{
	const char *base = getenv("TMPDIR");
	char *path;
	if (asprintf(&path, "%s/arca-test-XXXXXX", base && base[0] ? base : "/tmp") < 0)
		fail_msg("out of memory");
	if (!mkdtemp(path))
		fail_msg("mkdtemp %s failed", path);
	return path;
}

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	if (flag == FTW_DP)
		chmod(path, 0700);
	remove(path);
	return 0;
}

static int open_up(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)ftw;
	if (flag == FTW_D || (flag == FTW_DNR && S_ISDIR(st->st_mode)))
		chmod(path, 0700);
	return 0;
}

void t_remove_tree(const char *path)
{
	if (!path)
		return;
	nftw(path, open_up, 16, FTW_PHYS);
	nftw(path, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

char *t_path(const char *dir, const char *rel)
{
	char *p;
	if (asprintf(&p, "%s/%s", dir, rel) < 0)
		fail_msg("out of memory");
	return p;
}

void t_write_file(const char *dir, const char *rel, const char *text, size_t len)
{
	char *path = t_path(dir, rel);
	for (char *s = path + strlen(dir) + 1; (s = strchr(s, '/')); s++) {
		*s = '\0';
		mkdir(path, 0755);
		*s = '/';
	}
	FILE *f = fopen(path, "wb");
	if (!f)
		fail_msg("cannot write %s", path);
	size_t n = len == SIZE_MAX ? strlen(text) : len;
	if (fwrite(text, 1, n, f) != n || fclose(f) != 0)
		fail_msg("cannot write %s", path);
	free(path);
}

arca_store *t_store_new(char **home_out)
{
	char *home = t_tempdir();
	int created;
	if (arca_store_init(home, &created) != ARCA_OK)
		fail_msg("init %s: %s", home, arca_error_last());
	arca_store *store;
	if (arca_store_open(&store, home) != ARCA_OK)
		fail_msg("open %s: %s", home, arca_error_last());
	*home_out = home;
	return store;
}

char *t_shell_line(const char *fmt, ...)
{
	char cmd[4096];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	FILE *p = popen(cmd, "r");
	if (!p)
		fail_msg("cannot run %s", cmd);
	char line[4096] = "";
	if (!fgets(line, sizeof(line), p))
		line[0] = '\0';
	pclose(p);
	line[strcspn(line, "\n")] = '\0';
	return strdup(line);
}

char *t_git_blob_id(const char *path)
{
	/* Debian's python3 when present: version managers' shims cost a third of a second */
	char *id = t_shell_line("\"$([ -x /usr/bin/python3 ] && echo /usr/bin/python3 || echo python3)\" "
		"-c 'import hashlib, sys\n"
		"d = open(sys.argv[1], \"rb\").read()\n"
		"print(hashlib.sha1(b\"blob %%d\\0\" %% len(d) + d).hexdigest())' '%s'", path);
	if (strlen(id) != 40 || strspn(id, "0123456789abcdef") != 40)
		fail_msg("python3 could not compute the git blob id of %s (got '%s')", path, id);
	return id;
}

static int skipped;

void t_skip_note(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	printf("SKIP: ");
	vprintf(fmt, ap);
	printf("\n");
	fflush(stdout);
	va_end(ap);
	skipped++;
}

int t_exit(int failed)
{
	if (failed)
		return 1;
	return skipped ? T_SKIP_EXIT : 0;
}

int t_count_entries(const char *dir)
{
	DIR *d = opendir(dir);
	if (!d)
		return -1;
	int n = 0;
	struct dirent *e;
	while ((e = readdir(d)))
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
			n++;
	closedir(d);
	return n;
}

void *t_read_data_zst(const char *rel, size_t *len_out)
{
	char *path;
	if (asprintf(&path, "%s/%s.zst", ARCA_TEST_DATA, rel) < 0)
		fail_msg("out of memory");
	FILE *f = fopen(path, "rb");
	if (!f)
		fail_msg("cannot open %s", path);
	fseek(f, 0, SEEK_END);
	long clen = ftell(f);
	fseek(f, 0, SEEK_SET);
	void *cbuf = malloc(clen > 0 ? (size_t)clen : 1);
	if (!cbuf || clen <= 0 || fread(cbuf, 1, (size_t)clen, f) != (size_t)clen)
		fail_msg("cannot read %s", path);
	fclose(f);
	unsigned long long len = ZSTD_getFrameContentSize(cbuf, (size_t)clen);
	if (len == ZSTD_CONTENTSIZE_ERROR || len == ZSTD_CONTENTSIZE_UNKNOWN)
		fail_msg("%s: no content size in the zstd frame", path);
	char *buf = malloc((size_t)len + 1);
	if (!buf)
		fail_msg("out of memory");
	size_t got = ZSTD_decompress(buf, (size_t)len, cbuf, (size_t)clen);
	if (ZSTD_isError(got) || got != len)
		fail_msg("%s: cannot decompress", path);
	buf[len] = '\0';
	free(cbuf);
	free(path);
	*len_out = (size_t)len;
	return buf;
}

arca_err t_buffer_sink(void *buffer, const void *data, size_t len)
{
	t_buffer *b = buffer;
	if (b->len + len > b->cap) {
		b->cap = (b->len + len) * 2 + 64;
		b->data = realloc(b->data, b->cap);
		assert_non_null(b->data);
	}
	memcpy(b->data + b->len, data, len);
	b->len += len;
	return ARCA_OK;
}

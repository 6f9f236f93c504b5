/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cli/passphrase.c — secrets read from files: a private key's passphrase (the first line
 * of --passphrase-file, or ARCA_KEY_PASSPHRASE; never an argument, which would show in the
 * process list) and arca serve's --token-file. The text is wiped when it is freed.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

arca_err cli_read_secret_line(char **out, const char *file, const char *what)
{
	*out = NULL;
	FILE *f = fopen(file, "re");
	if (!f)
		return arca_error_errno(errno, "%s %s", what, file);
	char line[1024];
	char *got = fgets(line, sizeof(line), f);
	fclose(f);
	if (!got)
		return arca_error_set(ARCA_EINVALID, "%s %s is empty", what, file);
	line[strcspn(line, "\r\n")] = '\0';
	if (!line[0])
		return arca_error_set(ARCA_EINVALID, "%s %s: the first line is empty", what, file);
	*out = strdup(line);
	explicit_bzero(line, sizeof(line));
	return *out ? ARCA_OK : arca_error_set(ARCA_ENOMEM, "%s: out of memory", what);
}

arca_err cli_read_passphrase(char **out, const char *file)
{
	*out = NULL;
	if (!file) {
		const char *env = getenv("ARCA_KEY_PASSPHRASE");
		if (env && env[0] && !(*out = strdup(env)))
			return arca_error_set(ARCA_ENOMEM, "passphrase: out of memory");
		return ARCA_OK;
	}
	return cli_read_secret_line(out, file, "passphrase file");
}

void cli_free_passphrase(char *pass)
{
	if (pass) {
		explicit_bzero(pass, strlen(pass));
		free(pass);
	}
}

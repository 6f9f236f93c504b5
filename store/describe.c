/* SPDX-License-Identifier: Apache-2.0 */
/*
 * store/describe.c — the card and licence of a snapshot, read back from its stored blobs
 * so they describe exactly the bytes kept (used by `arca add` and `arca pull`).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "arca/card.h"
#include "arca/snapshot.h"

#define MAX_README (4u << 20)
#define LICENSE_HEAD 8192

arca_err arca_snapshot_describe(arca_store *store, const arca_file *files, size_t n,
	char **card_json, char **license_json, char **warning_out)
{
	*card_json = NULL;
	*license_json = NULL;
	*warning_out = NULL;
	arca_err err = ARCA_OK;
	arca_license_file *lic = calloc(n ? n : 1, sizeof(*lic));
	arca_blob_map **maps = calloc(n ? n : 1, sizeof(*maps));
	size_t n_lic = 0;
	if (!lic || !maps) {
		err = arca_error_set(ARCA_ENOMEM, "describe: out of memory");
		goto cleanup;
	}
	for (size_t i = 0; i < n; i++) {
		int is_readme = strcasecmp(files[i].path, "README.md") == 0;
		int is_license = arca_card_is_license_file(files[i].path);
		if ((!is_readme && !is_license) || !files[i].sha256[0])
			continue;
		if ((err = arca_store_map_blob(&maps[i], store, files[i].sha256)) < 0)
			goto cleanup;
		const arca_blob_map *map = maps[i];
		if (is_readme && !*card_json && !*warning_out) {
			int rc = 0;
			if (map->size > MAX_README)
				rc = asprintf(warning_out, "%s is larger than 4 MiB; its card was not read",
					files[i].path);
			else if (arca_card_parse(card_json, (const char *)map->data, map->size) < 0)
				rc = asprintf(warning_out, "%s: %s; the card fields were not recorded",
					files[i].path, arca_error_last());
			if (rc < 0) {
				*warning_out = NULL;
				err = arca_error_set(ARCA_ENOMEM, "describe: out of memory");
				goto cleanup;
			}
		}
		if (is_license) {
			lic[n_lic].path = files[i].path;
			lic[n_lic].text = (const char *)map->data;
			lic[n_lic].len = map->size < LICENSE_HEAD ? map->size : LICENSE_HEAD;
			n_lic++;
		}
	}
	err = arca_card_license(license_json, *card_json, lic, n_lic);
cleanup:
	for (size_t i = 0; maps && i < n; i++)
		arca_blob_map_free(maps[i]);
	free(maps);
	free(lic);
	if (err < 0) {
		free(*card_json);
		free(*warning_out);
		*card_json = NULL;
		*warning_out = NULL;
	}
	return err;
}

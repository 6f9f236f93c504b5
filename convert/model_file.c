/* SPDX-License-Identifier: Apache-2.0 */
/*
 * convert/model_file.c — see arca/model_file.h: a path or a REF resolved to a mapped GGUF.
 * It lives where the store meets the formats, so the runtime never touches the catalog.
 */
#include "arca/model_file.h"

#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "arca/catalog.h"
#include "arca/convert.h"
#include "arca/mapfile.h"
#include "arca/ref.h"
#include "arca/snapshot.h"

const char *const arca_model_file_preference[] = { "f32", "bf16", "f16", "q8_0", "q6_k",
	"q5_k_m", "q5_k", "q5_k_s", "q4_k_m", "q4_k", "q4_k_s", NULL };

int arca_model_file_is_path(const char *target)
{
	struct stat st;
	return stat(target, &st) == 0 && S_ISREG(st.st_mode);
}

/* The variant to use for a REF without one. */
static arca_err pick_variant(char out[64], arca_store *store, const arca_snapshot *snap)
{
	arca_artifact *all = NULL;
	size_t n = 0;
	arca_err err = arca_catalog_list_artifacts(&all, &n, arca_store_catalog(store), snap->id);
	if (err < 0)
		return err;
	const char *found = NULL;
	for (size_t p = 0; arca_model_file_preference[p] && !found; p++)
		for (size_t i = 0; i < n && !found; i++)
			if (!strcmp(all[i].name, arca_model_file_preference[p]))
				found = all[i].name;
	for (size_t i = 0; i < n && !found; i++)
		if (!strncmp(all[i].kind, "gguf", 4))
			found = all[i].name;
	if (found)
		snprintf(out, 64, "%s", found);
	else
		err = arca_error_set(ARCA_ENOTFOUND, "%s:%s@%.12s has no GGUF variant to run; make "
			"one with: arca convert %s:%s --quant q8_0", snap->hub, snap->repo_id,
			snap->commit, snap->hub, snap->repo_id);
	arca_artifacts_free(all, n);
	return err;
}

static arca_err open_from_store(arca_model_file *mf, arca_store *store, const char *target)
{
	arca_ref ref;
	arca_err err = arca_ref_parse(&ref, target);
	if (err < 0)
		return err;
	if (!store)
		return arca_error_set(ARCA_EINVALID, "%s: a model in the store needs a store", target);
	arca_snapshot snap;
	if ((err = arca_catalog_find_snapshot(&snap, arca_store_catalog(store), &ref)) < 0)
		return err;
	if (ref.variant[0])
		snprintf(mf->variant, sizeof(mf->variant), "%s", ref.variant);
	else
		err = pick_variant(mf->variant, store, &snap);
	if (err == ARCA_OK)
		err = arca_convert_find_variant(mf->sha256, &mf->artifact, store, &snap, mf->variant);
	if (err == ARCA_OK) {
		mf->snapshot = snap.id;
		snprintf(mf->commit, sizeof(mf->commit), "%s", snap.commit);
		snprintf(mf->snapshot_ref, sizeof(mf->snapshot_ref), "%s:%s@%s", snap.hub,
			snap.repo_id, snap.commit);
		snprintf(mf->what, sizeof(mf->what), "%s:%s@%.12s:%s", snap.hub, snap.repo_id,
			snap.commit, mf->variant);
	}
	arca_snapshot_dispose(&snap);
	if (err < 0)
		return err;
	arca_blob_map *map;
	if ((err = arca_store_map_blob(&map, store, mf->sha256)) < 0)
		return err;
	mf->map_ = map;
	mf->map_is_blob_ = 1;
	mf->data = map->data;
	mf->size = map->size;
	return ARCA_OK;
}

arca_err arca_model_file_open(arca_model_file *out, arca_store *store, const char *target)
{
	memset(out, 0, sizeof(*out));
	arca_err err;
	if (arca_model_file_is_path(target)) {
		arca_mapped_file *map;
		if ((err = arca_map_file(&map, target)) < 0)
			return err;
		out->map_ = map;
		out->data = map->data;
		out->size = map->size;
		snprintf(out->what, sizeof(out->what), "%s", target);
	} else if ((err = open_from_store(out, store, target)) < 0) {
		arca_model_file_close(out);
		return err;
	}
	if ((err = arca_gguf_open_buffer(&out->gguf, out->data, (size_t)out->size, out->what)) < 0)
		arca_model_file_close(out);
	return err;
}

void arca_model_file_close(arca_model_file *mf)
{
	arca_gguf_free(mf->gguf);
	if (mf->map_is_blob_)
		arca_blob_map_free(mf->map_);
	else if (mf->map_)
		arca_unmap_file(mf->map_);
	memset(mf, 0, sizeof(*mf));
}

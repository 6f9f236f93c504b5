/* SPDX-License-Identifier: Apache-2.0 */
/*
 * convert/audit_rows.c — small readers the fork audit shares (convert/audit_internal.h):
 * what a REF names, a tensor by name, selected rows and columns of a tensor as float32,
 * and a dot product with fixed float64 lanes.
 */
#include <stdlib.h>
#include <string.h>

#include "convert/audit_internal.h"

arca_err arca_convert__find_ref(arca_snapshot *snap, int64_t *artifact, arca_ref *ref,
	arca_catalog *cat, const char *text)
{
	memset(snap, 0, sizeof(*snap));
	*artifact = 0;
	arca_err err = arca_ref_parse(ref, text);
	if (err < 0 || (err = arca_catalog_find_snapshot(snap, cat, ref)) < 0)
		return err;
	if (!ref->variant[0])
		return ARCA_OK;
	arca_artifact art;
	if ((err = arca_catalog_find_artifact(&art, cat, snap->id, ref->variant)) < 0) {
		arca_snapshot_dispose(snap);
		return err;
	}
	*artifact = art.id;
	arca_artifact_dispose(&art);
	return ARCA_OK;
}

const arca_tview_tensor *arca_convert__tview_find(const arca_tview *v, const char *name)
{
	size_t lo = 0, hi = arca_convert__tview_count(v);
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const arca_tview_tensor *t = arca_convert__tview_at(v, mid);
		int c = strcmp(t->name, name);
		if (!c)
			return t;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

arca_err arca_convert__tview_gather(const arca_tview *v, const arca_tview_tensor *t,
	const uint64_t *rows, size_t n_rows, const uint64_t *cols, size_t n_cols, float *out)
{
	uint64_t len = t->row_len;
	float *row = malloc((size_t)len * sizeof(float));
	float *scratch = malloc(((size_t)arca_convert__tview_scratch(v, t) + 1) * sizeof(float));
	arca_err err = ARCA_OK;
	if (!row || !scratch)
		err = arca_error_set(ARCA_ENOMEM, "audit: out of memory reading %s", t->name);
	for (size_t i = 0; err == ARCA_OK && i < n_rows; i++) {
		uint64_t r = rows ? rows[i] : i;
		if (r >= t->n_rows) {
			err = arca_error_set(ARCA_EINVALID, "audit: row %llu of %s is out of range",
				(unsigned long long)r, t->name);
			break;
		}
		if ((err = arca_convert__tview_rows(v, t, r, 1, row, scratch)) < 0)
			break;
		float *dst = out + i * n_cols;
		if (!cols) {
			memcpy(dst, row, (size_t)len * sizeof(float));
			continue;
		}
		for (size_t c = 0; c < n_cols; c++)
			dst[c] = cols[c] < len ? row[cols[c]] : 0.0f;
	}
	free(row);
	free(scratch);
	return err;
}

#define LANES 8

double arca_convert__dot(const float *x, const float *y, size_t n)
{
	double acc[LANES] = { 0 };
	size_t i = 0;
	for (; i + LANES <= n; i += LANES)
		for (int l = 0; l < LANES; l++)
			acc[l] += (double)x[i + l] * (double)y[i + l];
	double s = 0;
	for (; i < n; i++)
		s += (double)x[i] * (double)y[i];
	for (int l = 0; l < LANES; l++)
		s += acc[l];
	return s;
}

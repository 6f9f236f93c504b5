/* SPDX-License-Identifier: Apache-2.0 */
/*
 * convert/audit_internal.h — the pieces of the fork audit (arca/audit.h) that read weights:
 * permutation alignment (tensor_align.c), the rank of a difference (delta_rank.c) and the
 * small helpers they share (audit_rows.c). Internal to convert/.
 */
#ifndef ARCA_CONVERT_AUDIT_INTERNAL_H
#define ARCA_CONVERT_AUDIT_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "arca/audit.h"
#include "arca/catalog.h"
#include "arca/ref.h"
#include "convert/tensor_view.h"

/* What REF[:VARIANT] text names: the snapshot (the caller's to dispose) and the variant's
 * id (0 without one). ARCA_EINVALID (not a REF), ARCA_ENOTFOUND. */
arca_err arca_convert__find_ref(arca_snapshot *snap, int64_t *artifact, arca_ref *ref,
	arca_catalog *cat, const char *text);

/* The tensor of v with this Hugging Face name, or NULL. */
const arca_tview_tensor *arca_convert__tview_find(const arca_tview *v, const char *name);

/* Rows rows[0..n_rows) (all rows when rows is NULL: n_rows = t->n_rows) of t, each cut to
 * the columns cols[0..n_cols) (all when cols is NULL: n_cols = t->row_len), into out
 * (n_rows × n_cols floats, row-major). Decodes one row at a time. */
arca_err arca_convert__tview_gather(const arca_tview *v, const arca_tview_tensor *t,
	const uint64_t *rows, size_t n_rows, const uint64_t *cols, size_t n_cols, float *out);


/* Matches FORK's hidden units to BASE's (Llama-family names: model.embed_tokens,
 * model.layers.N.mlp.{gate,up,down}_proj, self_attn.{q,k,v,o}_proj) and compares the
 * matrices again with both permutations undone. Not possible (out->done = 0, note says
 * why) when the names or sizes do not fit. */
arca_err arca_convert__align(arca_align_result *out, const arca_tview *base,
	const arca_tview *fork);
void arca_convert__align_dispose(arca_align_result *r);

/* The rank of B − A (same shape) by a randomized range finder with a sketch of up to 48
 * directions: the smallest rank holding 90% of ‖B − A‖². */
arca_err arca_convert__delta_rank(arca_rank_estimate *out, const arca_tview *va,
	const arca_tview_tensor *ta, const arca_tview *vb, const arca_tview_tensor *tb);

#endif

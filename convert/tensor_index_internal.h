/* SPDX-License-Identifier: Apache-2.0 */
/*
 * convert/tensor_index_internal.h — what the two tensor index files share: indexing one
 * mapped image on a pool the caller keeps (convert/tensor_index.c), for the store side that
 * picks blobs and records rows (convert/tensor_index_store.c).
 */
#ifndef ARCA_TENSOR_INDEX_INTERNAL_H
#define ARCA_TENSOR_INDEX_INTERNAL_H

#include "arca/tensor_index.h"

typedef struct arca_pool arca_pool;

/* Progress of a whole call: bytes before this image (base) and of all images (total). */
typedef struct {
	arca_index_progress_cb cb;
	const char *item;
	uint64_t base, total;
	void *payload;
} arca_index_progress;

/* arca_tensor_index_buffer on a caller's pool (NULL: this thread only), reporting progress
 * (NULL: none) from the calling thread. */
arca_err arca_tensor_index__image(arca_tensor_record **out, size_t *n_out,
	const char **format_out, const void *data, size_t len, const char *what, arca_pool *pool,
	arca_index_progress *progress);

#endif

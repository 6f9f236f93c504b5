/* SPDX-License-Identifier: Apache-2.0 */
/*
 * arca/model_file.h — finding the GGUF that `arca run`, `bench`, `tokenize` and `validate`
 * work on: a file path, or a model in the store (REF:VARIANT, or REF alone: the most
 * faithful stored variant), mapped read-only and opened with the strict GGUF reader.
 */
#ifndef ARCA_MODEL_FILE_H
#define ARCA_MODEL_FILE_H

#include <stddef.h>
#include <stdint.h>

#include "arca/digest.h"
#include "arca/error.h"
#include "arca/gguf.h"
#include "arca/store.h"

typedef struct {
	arca_gguf *gguf;
	const unsigned char *data;      /* the whole file, read-only */
	uint64_t size;
	char what[400];                 /* how errors and reports name it */
	char variant[64];               /* "" for a plain file */
	char sha256[ARCA_SHA256_HEX];   /* "" for a plain file */
	int64_t snapshot;               /* 0 for a plain file */
	char commit[72];                /* the snapshot's commit; "" for a plain file */
	char snapshot_ref[300];         /* "hub:org/name@commit", to open sibling variants */
	int64_t artifact;               /* 0 for a plain file */
	void *map_;                     /* private */
	int map_is_blob_;               /* private */
} arca_model_file;

/* The variants tried, in order, when a REF names none: the most faithful first. */
extern const char *const arca_model_file_preference[];

/* target: an existing path (any GGUF), or REF[:VARIANT] (store required then). A REF
 * without a variant takes the first of arca_model_file_preference the snapshot has, else
 * its only other GGUF variant; none is ARCA_ENOTFOUND saying how to make one. */
arca_err arca_model_file_open(arca_model_file *out, arca_store *store, const char *target);
void arca_model_file_close(arca_model_file *mf);

/* 1 when target names an existing file (no store needed). */
int arca_model_file_is_path(const char *target);

#endif

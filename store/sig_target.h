/* SPDX-License-Identifier: Apache-2.0 */
/*
 * store/sig_target.h — what a signature in the store covers: a snapshot's files, or one
 * variant's outputs, as (path, sha256, size), with the name it is signed as. Internal to
 * store/ (signing and checking share it).
 */
#ifndef ARCA_STORE_SIG_TARGET_H
#define ARCA_STORE_SIG_TARGET_H

#include "arca/signatures.h"

typedef struct {
	arca_snapshot snap;
	int64_t artifact;         /* 0: the snapshot itself */
	char *subject;            /* repo@commit[:variant], for people */
	char *model_name;         /* what the statement names: the repo's name[-variant] */
	arca_sign_file *files;    /* sorted as model signing orders them */
	uint64_t *sizes;
	size_t n;
} arca_sig_target;

/* Resolves REF[:VARIANT]; the snapshot must be complete. */
arca_err arca_sig_target_load(arca_sig_target *out, arca_store *store, const arca_ref *ref);
/* The same for a snapshot by id (pull). */
arca_err arca_sig_target_load_snapshot(arca_sig_target *out, arca_store *store,
	int64_t snapshot);
void arca_sig_target_dispose(arca_sig_target *t);

#endif

/* SPDX-License-Identifier: Apache-2.0 */
/*
 * store/byte_pipe.h — a bounded hand-off of byte buffers from one producer thread to one
 * worker thread, so that reading (decompressing) and consuming (hashing, writing) overlap.
 * Internal to store/.
 */
#ifndef ARCA_STORE_BYTE_PIPE_H
#define ARCA_STORE_BYTE_PIPE_H

#include "arca/error.h"

#include <stddef.h>

typedef struct arca_byte_pipe arca_byte_pipe;

/* What the worker does with each buffer, in order; the first error stops the consuming. */
typedef arca_err (*arca_byte_pipe_fn)(void *ctx, const void *buf, size_t len);

/* n_bufs buffers of buf_size bytes, and the worker thread. */
arca_err arca_byte_pipe_new(arca_byte_pipe **out, size_t n_bufs, size_t buf_size);
/* A free buffer to fill (waits for one). */
unsigned char *arca_byte_pipe_slot(arca_byte_pipe *p);
/* Hands the slot's first len bytes to the worker for fn(ctx, ...). Returns the worker's
 * first error so far (the buffer is then dropped). */
arca_err arca_byte_pipe_push(arca_byte_pipe *p, size_t len, arca_byte_pipe_fn fn, void *ctx);
/* Waits until every pushed buffer is consumed; returns the worker's first error and clears
 * it (the next run of pushes starts clean). */
arca_err arca_byte_pipe_drain(arca_byte_pipe *p);
/* Drains, stops the worker and frees. */
void arca_byte_pipe_free(arca_byte_pipe *p);

#endif

/* SPDX-License-Identifier: Apache-2.0 */
/*
 * runtime/gpu.h — the GPU backend as the CPU runtime sees it. A session opened on a device
 * uploads the weights of its first n layers (and, with every layer, the output norm and
 * matrix) once, in their stored types, and runs those layers there: the same model, the
 * same architecture table, only the kernels differ (runtime/cuda/). Layers past n run on
 * the CPU path as before, so a model larger than the card still runs. Built from
 * runtime/cuda/ when nvcc is found (ARCA_CUDA); otherwise gpu_none.c answers that this
 * build has no GPU backend. Internal to the runtime.
 */
#ifndef ARCA_RUNTIME_GPU_H
#define ARCA_RUNTIME_GPU_H

#include <stddef.h>
#include <stdint.h>

#include "arca/error.h"
#include "arca/runtime.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct arca_gpu arca_gpu;

typedef struct {
	int device;            /* CUDA device ordinal */
	int32_t n_layers;      /* layers to place on the device, from the first; -1: all
	                        * (the open fails when they do not fit) */
	uint32_t n_ctx, n_batch;
} arca_gpu_opts;

/* "cuda", "cuda-emulator" (tests), or NULL when this build has no GPU backend. */
const char *arca_gpu_backend(void);

/* ARCA_EUNSUPPORTED without a backend, ARCA_EIO naming CUDA's error when no device is
 * usable, ARCA_EINVALID for a weight type the GPU kernels do not read, ARCA_ENOMEM when
 * the layers asked for do not fit (saying how many would). */
arca_err arca_gpu_open(arca_gpu **out, const arca_model *m, const arca_gpu_opts *o);
void arca_gpu_free(arca_gpu *g);

uint32_t arca_gpu_layers(const arca_gpu *g);     /* layers on the device */
const char *arca_gpu_device_name(const arca_gpu *g);
uint64_t arca_gpu_weight_bytes(const arca_gpu *g); /* weight bytes uploaded */
/* 1 when a prompt's dense products run through cuBLAS (runtime/cuda/gemm.cu), and in
 * words how they run: "cuBLAS 13.1.0", or "tile kernels (cuBLAS not used: WHY)". */
int arca_gpu_blas(const arca_gpu *g);
const char *arca_gpu_products(const arca_gpu *g);

/* Runs the device's layers for n tokens (n <= n_batch) at positions n_past.. . x holds
 * their embeddings (n × n_embd floats) and, when some layers stay on the CPU, receives the
 * hidden states after the device's layers. With every layer on the device and rows > 0,
 * logits receives the logits of the last `rows` tokens (rows × n_vocab) and x is left as
 * it was. ARCA_EIO naming CUDA's error when a step fails. */
arca_err arca_gpu_forward(arca_gpu *g, float *x, size_t n, uint32_t n_past, size_t rows,
	float *logits);

#ifdef __cplusplus
}
#endif

#endif

/* SPDX-License-Identifier: Apache-2.0 */
/*
 * runtime/gpu_none.c — runtime/gpu.h in a build without the CUDA backend (nvcc was not
 * found, or -DARCA_CUDA=OFF): asking for a device is an error that says so.
 */
#include "runtime/gpu.h"

#ifndef ARCA_HAVE_CUDA

const char *arca_gpu_backend(void)
{
	return NULL;
}

arca_err arca_gpu_open(arca_gpu **out, const arca_model *m, const arca_gpu_opts *o)
{
	(void)m;
	(void)o;
	*out = NULL;
	return arca_error_set(ARCA_EUNSUPPORTED, "this arca was built without the CUDA backend "
		"(nvcc was not found when it was configured; install the CUDA toolkit and build "
		"again, or configure with -DARCA_CUDA=ON to require it)");
}

void arca_gpu_free(arca_gpu *g)
{
	(void)g;
}

uint32_t arca_gpu_layers(const arca_gpu *g)
{
	(void)g;
	return 0;
}

const char *arca_gpu_device_name(const arca_gpu *g)
{
	(void)g;
	return "";
}

uint64_t arca_gpu_weight_bytes(const arca_gpu *g)
{
	(void)g;
	return 0;
}

int arca_gpu_blas(const arca_gpu *g)
{
	(void)g;
	return 0;
}

const char *arca_gpu_products(const arca_gpu *g)
{
	(void)g;
	return "";
}

arca_err arca_gpu_forward(arca_gpu *g, float *x, size_t n, uint32_t n_past, size_t rows,
	float *logits)
{
	(void)g, (void)x, (void)n, (void)n_past, (void)rows, (void)logits;
	return arca_error_set(ARCA_EUNSUPPORTED, "no GPU backend in this build");
}

#endif

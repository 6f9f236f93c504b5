/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cli/device_opts.c — see device_opts.h.
 */
#include "device_opts.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arca/quant.h"

arca_err cli_device_apply(const cli_device *d, arca_session_opts *so)
{
	int dev = -1;
	if (d->device && strcmp(d->device, "cpu")) {
		char *end = NULL;
		long k = strncmp(d->device, "cuda:", 5) ? -1 : strtol(d->device + 5, &end, 10);
		if (k < 0 || k > 255 || !end || end == d->device + 5 || *end)
			return arca_error_set(ARCA_EINVALID, "--device %s: give cpu or cuda:N",
				d->device);
		dev = (int)k;
	}
	if (d->gpu) {
		if (d->device)
			return arca_error_set(ARCA_EINVALID, "give --gpu or --device, not both");
		dev = 0;
	}
	if (d->gpu_layers != -1 && dev < 0)
		return arca_error_set(ARCA_EINVALID, "--gpu-layers needs a GPU (--gpu or --device "
			"cuda:N)");
	if (d->gpu_layers < -1)
		return arca_error_set(ARCA_EINVALID, "--gpu-layers %d: give 0 or more layers",
			d->gpu_layers);
	so->device = d->gpu_layers == 0 ? -1 : dev;   /* no layer on the GPU: the CPU alone */
	so->gpu_layers = d->gpu_layers;
	if (so->device >= 0 && so->cache_type != ARCA_GGML_F16)
		return arca_error_set(ARCA_EINVALID, "--cache-type %s: on a GPU the KV cache "
			"is f16", arca_cache_type_name(so->cache_type));
	return ARCA_OK;
}

void cli_device_describe(const arca_session *s, char *buf, size_t cap)
{
	const char *name = arca_session_device_name(s);
	if (!name)
		snprintf(buf, cap, "cpu");
	else
		snprintf(buf, cap, "%s (%u of %u layers)", name, arca_session_gpu_layers(s),
			arca_session_model_info(s)->n_layer);
}

/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cli/device_opts.h — where run, bench and validate put a session: the CPU (default), or
 * a CUDA GPU for its first --gpu-layers layers (--gpu, --device cuda:N). With a GPU the
 * KV cache is f16 (the default; another --cache-type is a usage error).
 */
#ifndef ARCA_CLI_DEVICE_OPTS_H
#define ARCA_CLI_DEVICE_OPTS_H

#include "arca/runtime.h"
#include "cli.h"

typedef struct {
	int gpu;
	const char *device;
	int gpu_layers;          /* -1 until given */
} cli_device;
#define CLI_DEVICE_INIT { 0, NULL, -1 }

#define CLI_DEVICE_OPTIONS(d) \
	{ "gpu", 0, CLI_FLAG, NULL, "run on the first CUDA GPU (--device cuda:0)", &(d).gpu }, \
	{ "device", 0, CLI_STRING, "DEV", "cpu (default) or cuda:N", &(d).device }, \
	{ "gpu-layers", 0, CLI_INT, "N", "with a GPU: the first N layers on it, the rest on " \
		"the CPU (default: every layer)", &(d).gpu_layers }

/* Sets so->device and so->gpu_layers; ARCA_EINVALID with the reason for a usage error
 * (also a cache type other than f16 with a GPU). */
arca_err cli_device_apply(const cli_device *d, arca_session_opts *so);

/* "cpu" or the GPU's name with how many layers it runs, for reports. */
void cli_device_describe(const arca_session *s, char *buf, size_t cap);

#endif

/* SPDX-License-Identifier: Apache-2.0 */
/*
 * quant/ggml_types.c — the one table of ggml tensor types: name, block size, bytes per
 * block, and whether arca can write and read each (docs/formats.md §3). Every live id up to
 * GGML_TYPE_COUNT is described, so a file holding a type arca cannot convert still gets
 * its tensors named and sized; removed ids (4, 5, 31-33, 36-38) have no entry.
 */
#include <stdio.h>
#include <strings.h>

#include "arca/quant.h"

#define Q 1 /* arca quantizes to it */
#define D 1 /* arca dequantizes it */

static const arca_ggml_type_info types[ARCA_GGML_TYPE_COUNT] = {
	[0] = { "F32", 1, 4, Q, D },
	[1] = { "F16", 1, 2, Q, D },
	[2] = { "Q4_0", 32, 18, Q, D },
	[3] = { "Q4_1", 32, 20, Q, D },
	[6] = { "Q5_0", 32, 22, Q, D },
	[7] = { "Q5_1", 32, 24, Q, D },
	[8] = { "Q8_0", 32, 34, Q, D },
	[9] = { "Q8_1", 32, 36, 0, 0 },
	[10] = { "Q2_K", 256, 84, Q, D },
	[11] = { "Q3_K", 256, 110, Q, D },
	[12] = { "Q4_K", 256, 144, Q, D },
	[13] = { "Q5_K", 256, 176, Q, D },
	[14] = { "Q6_K", 256, 210, Q, D },
	[15] = { "Q8_K", 256, 292, 0, 0 },
	[16] = { "IQ2_XXS", 256, 66, 0, 0 },
	[17] = { "IQ2_XS", 256, 74, 0, 0 },
	[18] = { "IQ3_XXS", 256, 98, 0, 0 },
	[19] = { "IQ1_S", 256, 50, 0, 0 },
	[20] = { "IQ4_NL", 32, 18, Q, D },
	[21] = { "IQ3_S", 256, 110, 0, 0 },
	[22] = { "IQ2_S", 256, 82, 0, 0 },
	[23] = { "IQ4_XS", 256, 136, Q, D },
	[24] = { "I8", 1, 1, 0, 0 },
	[25] = { "I16", 1, 2, 0, 0 },
	[26] = { "I32", 1, 4, 0, 0 },
	[27] = { "I64", 1, 8, 0, 0 },
	[28] = { "F64", 1, 8, 0, 0 },
	[29] = { "IQ1_M", 256, 56, 0, 0 },
	[30] = { "BF16", 1, 2, Q, D },
	[34] = { "TQ1_0", 256, 54, 0, 0 },
	[35] = { "TQ2_0", 256, 66, 0, 0 },
	[39] = { "MXFP4", 32, 17, 0, 0 },
	[40] = { "NVFP4", 64, 36, 0, 0 },
	[41] = { "Q1_0", 128, 18, 0, 0 },
	[42] = { "Q2_0", 64, 18, 0, 0 },
};

const arca_ggml_type_info *arca_ggml_type_info_get(int type)
{
	if (type < 0 || type >= ARCA_GGML_TYPE_COUNT || !types[type].name)
		return NULL;
	return &types[type];
}

arca_err arca_ggml_type_from_name(int *out, const char *name)
{
	if (name) {
		for (int t = 0; t < ARCA_GGML_TYPE_COUNT; t++)
			if (types[t].name && !strcasecmp(types[t].name, name)) {
				*out = t;
				return ARCA_OK;
			}
	}
	char list[256];
	size_t len = 0;
	list[0] = '\0';
	for (int t = 0; t < ARCA_GGML_TYPE_COUNT; t++) {
		if (!types[t].quantize)
			continue;
		int k = snprintf(list + len, sizeof(list) - len, "%s%s", len ? ", " : "",
			types[t].name);
		if (k < 0 || (size_t)k >= sizeof(list) - len)
			break;
		len += (size_t)k;
	}
	return arca_error_set(ARCA_EINVALID, "unknown tensor type '%s' (arca can quantize to %s)",
		name ? name : "", list);
}

uint64_t arca_ggml_row_size(int type, uint64_t n)
{
	const arca_ggml_type_info *info = arca_ggml_type_info_get(type);
	if (!info || n % info->block_size)
		return 0;
	uint64_t blocks = n / info->block_size;
	if (blocks > UINT64_MAX / info->type_size)
		return 0;
	return blocks * info->type_size;
}

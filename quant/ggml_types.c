/* SPDX-License-Identifier: Apache-2.0 */
/*
 * quant/ggml_types.c — the one table of ggml tensor types, one row each: name, block size,
 * bytes per block, the scalar quantizer and dequantizer (which say whether arca can write
 * and read it), the runtime's activation type and the mixes' fallback type
 * (docs/formats.md §3). Every live id up to GGML_TYPE_COUNT is described, so a file holding
 * a type arca cannot convert still gets its tensors named and sized; removed ids (4, 5,
 * 31-33, 36-38) have no entry.
 */
#include <stdio.h>
#include <strings.h>

#include "quant/quant_internal.h"

/* A row: the public traits plus the scalar reference kernels (NULL: arca does not write or
 * read the type). */
typedef struct {
	arca_ggml_type_info info;
	arca_quant__quantize_fn quantize;
	arca_quant__dequantize_fn dequantize;
} type_row;

#define NONE ARCA_GGML_NONE
#define F32 ARCA_GGML_F32
#define F16 ARCA_GGML_F16
#define BF16 ARCA_GGML_BF16
#define Q8_0 ARCA_GGML_Q8_0
#define Q8_K ARCA_GGML_Q8_K

/* A type arca converts: both kernels exist (arca_quant__quantize_<k>, _dequantize_<k>). */
#define ROW(id, name, bs, size, k, dot, fallback) \
	[id] = { { name, bs, size, 1, 1, dot, fallback }, arca_quant__quantize_##k, \
		arca_quant__dequantize_##k }
/* A type arca only names and sizes. */
#define KNOWN(id, name, bs, size) [id] = { { name, bs, size, 0, 0, NONE, NONE }, NULL, NULL }

static const type_row rows[ARCA_GGML_TYPE_COUNT] = {
	ROW(ARCA_GGML_F32, "F32", 1, 4, f32, F32, NONE),
	ROW(ARCA_GGML_F16, "F16", 1, 2, f16, F16, NONE),
	ROW(ARCA_GGML_Q4_0, "Q4_0", ARCA_QK, sizeof(arca_block_q4_0), q4_0, Q8_0, NONE),
	ROW(ARCA_GGML_Q4_1, "Q4_1", ARCA_QK, sizeof(arca_block_q4_1), q4_1, Q8_0, NONE),
	ROW(ARCA_GGML_Q5_0, "Q5_0", ARCA_QK, sizeof(arca_block_q5_0), q5_0, Q8_0, NONE),
	ROW(ARCA_GGML_Q5_1, "Q5_1", ARCA_QK, sizeof(arca_block_q5_1), q5_1, Q8_0, NONE),
	ROW(ARCA_GGML_Q8_0, "Q8_0", ARCA_QK, sizeof(arca_block_q8_0), q8_0, Q8_0, NONE),
	KNOWN(ARCA_GGML_Q8_1, "Q8_1", 32, 36),
	ROW(ARCA_GGML_Q2_K, "Q2_K", ARCA_QK_K, sizeof(arca_block_q2_K), q2_K, Q8_K, ARCA_GGML_Q4_0),
	ROW(ARCA_GGML_Q3_K, "Q3_K", ARCA_QK_K, sizeof(arca_block_q3_K), q3_K, Q8_K, ARCA_GGML_Q4_0),
	ROW(ARCA_GGML_Q4_K, "Q4_K", ARCA_QK_K, sizeof(arca_block_q4_K), q4_K, Q8_K, ARCA_GGML_Q5_0),
	ROW(ARCA_GGML_Q5_K, "Q5_K", ARCA_QK_K, sizeof(arca_block_q5_K), q5_K, Q8_K, ARCA_GGML_Q5_1),
	ROW(ARCA_GGML_Q6_K, "Q6_K", ARCA_QK_K, sizeof(arca_block_q6_K), q6_K, Q8_K, ARCA_GGML_Q8_0),
	KNOWN(ARCA_GGML_Q8_K, "Q8_K", ARCA_QK_K, sizeof(arca_block_q8_K)),
	KNOWN(16, "IQ2_XXS", 256, 66),
	KNOWN(17, "IQ2_XS", 256, 74),
	KNOWN(18, "IQ3_XXS", 256, 98),
	KNOWN(19, "IQ1_S", 256, 50),
	/* the runtime does not multiply the IQ4 types yet (no kernels checked against
	 * llama.cpp's): converted and read, not run */
	ROW(ARCA_GGML_IQ4_NL, "IQ4_NL", ARCA_QK, sizeof(arca_block_iq4_nl), iq4_nl, NONE, NONE),
	KNOWN(21, "IQ3_S", 256, 110),
	KNOWN(22, "IQ2_S", 256, 82),
	ROW(ARCA_GGML_IQ4_XS, "IQ4_XS", ARCA_QK_K, sizeof(arca_block_iq4_xs), iq4_xs, NONE,
		ARCA_GGML_IQ4_NL),
	KNOWN(ARCA_GGML_I8, "I8", 1, 1),
	KNOWN(ARCA_GGML_I16, "I16", 1, 2),
	KNOWN(ARCA_GGML_I32, "I32", 1, 4),
	KNOWN(ARCA_GGML_I64, "I64", 1, 8),
	KNOWN(ARCA_GGML_F64, "F64", 1, 8),
	KNOWN(29, "IQ1_M", 256, 56),
	ROW(ARCA_GGML_BF16, "BF16", 1, 2, bf16, BF16, NONE),
	KNOWN(34, "TQ1_0", 256, 54),
	KNOWN(35, "TQ2_0", 256, 66),
	KNOWN(39, "MXFP4", 32, 17),
	KNOWN(40, "NVFP4", 64, 36),
	KNOWN(41, "Q1_0", 128, 18),
	KNOWN(42, "Q2_0", 64, 18),
};

void arca_quant__fill_reference(arca_quant__kernels *k)
{
	k->name = "scalar";
	for (int t = 0; t < ARCA_GGML_TYPE_COUNT; t++) {
		k->quantize[t] = rows[t].quantize;
		k->dequantize[t] = rows[t].dequantize;
	}
}

const arca_ggml_type_info *arca_ggml_type_info_get(int type)
{
	if (type < 0 || type >= ARCA_GGML_TYPE_COUNT || !rows[type].info.name)
		return NULL;
	return &rows[type].info;
}

arca_err arca_ggml_type_from_name(int *out, const char *name)
{
	if (name) {
		for (int t = 0; t < ARCA_GGML_TYPE_COUNT; t++)
			if (rows[t].info.name && !strcasecmp(rows[t].info.name, name)) {
				*out = t;
				return ARCA_OK;
			}
	}
	char list[256];
	size_t len = 0;
	list[0] = '\0';
	for (int t = 0; t < ARCA_GGML_TYPE_COUNT; t++) {
		if (!rows[t].info.quantize)
			continue;
		int k = snprintf(list + len, sizeof(list) - len, "%s%s", len ? ", " : "",
			rows[t].info.name);
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

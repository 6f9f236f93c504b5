/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tests/runtime/gpu_compare.c — the GPU backend checked against the CPU path on one GGUF:
 * the same prompt through a CPU session and a GPU session (both with an F16 KV cache, the
 * GPU's), every position's logits compared (‖gpu − cpu‖ / ‖cpu‖: at most --tol-prefill for
 * the prompt, --tol for each decode step), then a greedy continuation on each side that
 * must choose the same tokens up to the first near-tie of the CPU's logits (top two closer
 * than --tie). Prints one JSON line; exits 1 on a difference, 2 on bad usage. --prefix N
 * evaluates the prompt's first N tokens on their own first, so that the compared rest is a
 * prompt after cached positions.
 *
 * The CPU reference runs either the same GGUF (--reference same), where for quantized
 * weights its own rounding dominates (it quantizes activations to 8 bits, as llama.cpp's
 * CPU backend does: about 1% per product), or (--reference dequant, the default) a copy
 * with every weight decoded to F32 — the very values the GPU decodes — so what is left is
 * the GPU's own error: float products for one token, half (BF16 weights: bfloat16)
 * activation tiles for a prompt.
 *
 * Built twice: gpu_compare_emu links the backend compiled for the CPU emulation of CUDA
 * (runs everywhere: tests/cli/t_gpu_emu.sh), gpu_compare the real one (only in CUDA builds;
 * tests/cli/t_gpu.sh runs it where a GPU is present).
 */
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "arca/gguf.h"
#include "arca/quant.h"
#include "arca/runtime.h"
#include "support.h"

static double rel_diff(const float *ref, const float *x, size_t n)
{
	double num = 0.0, den = 0.0;
	for (size_t i = 0; i < n; i++) {
		double d = (double)x[i] - (double)ref[i];
		if (isnan(x[i]))
			return INFINITY;
		num += d * d;
		den += (double)ref[i] * ref[i];
	}
	return den > 0 ? sqrt(num / den) : sqrt(num);
}

static int32_t argmax(const float *l, uint32_t n, float *gap)
{
	int32_t best = 0, second = -1;
	for (uint32_t i = 1; i < n; i++) {
		if (l[i] > l[best]) {
			second = best;
			best = (int32_t)i;
		} else if (second < 0 || l[i] > l[second]) {
			second = (int32_t)i;
		}
	}
	*gap = second < 0 ? INFINITY : l[best] - l[second];
	return best;
}

/* The GGUF with every tensor decoded to F32 (metadata copied). */
static arca_err dequantized_copy(const arca_gguf *g, t_buffer *out)
{
	arca_gguf_writer *w;
	arca_err err = arca_gguf_writer_new(&w, 32);
	for (size_t i = 0; err >= 0 && i < arca_gguf_kv_count(g); i++)
		err = arca_gguf_add_kv_copy(w, arca_gguf_kv_at(g, i));
	for (size_t i = 0; err >= 0 && i < arca_gguf_tensor_count(g); i++) {
		const arca_gguf_tensor *t = arca_gguf_tensor_at(g, i);
		err = arca_gguf_add_tensor(w, t->name, t->n_dims, t->ne, ARCA_GGML_F32);
	}
	if (err >= 0)
		err = arca_gguf_write_header(w, t_buffer_sink, out);
	for (size_t i = 0; err >= 0 && i < arca_gguf_tensor_count(g); i++) {
		const arca_gguf_tensor *t = arca_gguf_tensor_at(g, i);
		size_t n = 1;
		for (uint32_t d = 0; d < t->n_dims; d++)
			n *= (size_t)t->ne[d];
		float *f = malloc(n * sizeof(float));
		if (!f)
			err = arca_error_set(ARCA_ENOMEM, "out of memory");
		if (err >= 0)
			err = arca_dequantize(t->type, arca_gguf_tensor_data(g, t), f, n);
		if (err >= 0)
			err = arca_gguf_write_tensor_data(w, t_buffer_sink, out, i, f, n * sizeof(float));
		free(f);
	}
	arca_gguf_writer_free(w);
	return err;
}

static int die(const char *what, arca_err err)
{
	fprintf(stderr, "gpu_compare: %s: %s\n", what, err < 0 ? arca_error_last() : "");
	return 1;
}

int main(int argc, char **argv)
{
	const char *path = NULL, *ids_text = "3,17,101,5,250,42,9,77";
	int gen = 12, gpu_layers = -1, threads = 2, dequant = 1, ctx = 256, random_prompt = 0;
	int prefix = 0;
	double tol = 1e-3, tol_prefill = 1e-3, tie = 0.02;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--gpu-layers") && i + 1 < argc)
			gpu_layers = atoi(argv[++i]);
		else if (!strcmp(argv[i], "--prompt-ids") && i + 1 < argc)
			ids_text = argv[++i];
		else if (!strcmp(argv[i], "-n") && i + 1 < argc)
			gen = atoi(argv[++i]);
		else if (!strcmp(argv[i], "--tol") && i + 1 < argc)
			tol = atof(argv[++i]);
		else if (!strcmp(argv[i], "--tol-prefill") && i + 1 < argc)
			tol_prefill = atof(argv[++i]);
		else if (!strcmp(argv[i], "--reference") && i + 1 < argc &&
			 (!strcmp(argv[i + 1], "same") || !strcmp(argv[i + 1], "dequant")))
			dequant = !strcmp(argv[++i], "dequant");
		else if (!strcmp(argv[i], "--tie") && i + 1 < argc)
			tie = atof(argv[++i]);
		else if (!strcmp(argv[i], "--threads") && i + 1 < argc)
			threads = atoi(argv[++i]);
		else if (!strcmp(argv[i], "--ctx") && i + 1 < argc)
			ctx = atoi(argv[++i]);
		else if (!strcmp(argv[i], "--random-prompt") && i + 1 < argc)
			random_prompt = atoi(argv[++i]);
		else if (!strcmp(argv[i], "--prefix") && i + 1 < argc)
			prefix = atoi(argv[++i]);
		else if (argv[i][0] != '-' && !path)
			path = argv[i];
		else {
			fprintf(stderr, "usage: gpu_compare MODEL.gguf [--gpu-layers N] [--prompt-ids "
				"A,B,..] [-n N] [--tol REL] [--tol-prefill REL] [--tie GAP] [--threads N] "
				"[--reference same|dequant] [--ctx N] [--random-prompt N] [--prefix N]\n");
			return 2;
		}
	}
	if (!path) {
		fprintf(stderr, "usage: gpu_compare MODEL.gguf [options]\n");
		return 2;
	}
	int32_t ids[4096];
	size_t n_ids = 0;
	for (char *s = (char *)ids_text; *s && n_ids < 256 && !random_prompt;) {
		ids[n_ids++] = (int32_t)strtol(s, &s, 10);
		if (*s == ',')
			s++;
	}
	if (random_prompt < 0 || random_prompt > 4096 || ctx < 16 || random_prompt + gen >= ctx) {
		fprintf(stderr, "gpu_compare: --random-prompt 0..4096 and -n must fit --ctx\n");
		return 2;
	}
	if (prefix < 0 || (size_t)prefix >= (random_prompt ? (size_t)random_prompt : n_ids)) {
		fprintf(stderr, "gpu_compare: --prefix must leave some of the prompt\n");
		return 2;
	}
	int fd = open(path, O_RDONLY);
	struct stat st;
	if (fd < 0 || fstat(fd, &st) < 0) {
		perror(path);
		return 1;
	}
	void *map = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	close(fd);
	if (map == MAP_FAILED) {
		perror(path);
		return 1;
	}
	arca_gguf *g;
	arca_model *m;
	arca_err err;
	if ((err = arca_gguf_open_buffer(&g, map, (size_t)st.st_size, path)) < 0 ||
	    (err = arca_model_load(&m, g, path)) < 0)
		return die("load", err);
	const arca_model_info *in = arca_model_get_info(m);
	uint64_t seed = 11;
	for (int i = 0; i < random_prompt; i++) {   /* ids 3.. of the vocabulary, seeded */
		seed = seed * 6364136223846793005ull + 1442695040888963407ull;
		ids[n_ids++] = 3 + (int32_t)((seed >> 33) % (in->n_vocab - 3));
	}
	t_buffer ref_file = { 0 };
	arca_gguf *ref_g = NULL;
	arca_model *ref_m = m;
	if (dequant && ((err = dequantized_copy(g, &ref_file)) < 0 ||
	    (err = arca_gguf_open_buffer(&ref_g, ref_file.data, ref_file.len, "reference")) < 0 ||
	    (err = arca_model_load(&ref_m, ref_g, "reference")) < 0))
		return die("the F32 reference", err);
	arca_session_opts co = ARCA_SESSION_OPTS_INIT, go = ARCA_SESSION_OPTS_INIT;
	co.n_ctx = go.n_ctx = (uint32_t)ctx;
	co.n_threads = go.n_threads = threads;
	co.cache_type = go.cache_type = ARCA_GGML_F16;
	go.device = 0;
	go.gpu_layers = gpu_layers;
	arca_session *cpu, *gpu;
	if ((err = arca_session_new_opts(&cpu, ref_m, &co)) < 0)
		return die("CPU session", err);
	if ((err = arca_session_new_opts(&gpu, m, &go)) < 0)
		return die("GPU session", err);
	size_t V = in->n_vocab;
	const float *lc, *lg;
	/* --prefix: the prompt's first tokens evaluated on their own, so that the rest (whose
	 * logits are compared) is a prompt after cached positions */
	if (prefix && ((err = arca_session_eval(cpu, ids, (size_t)prefix, 0, &lc)) < 0 ||
	               (err = arca_session_eval(gpu, ids, (size_t)prefix, 0, &lg)) < 0))
		return die("the prefix", err);
	memmove(ids, ids + prefix, (n_ids - (size_t)prefix) * sizeof(int32_t));
	n_ids -= (size_t)prefix;
	if ((err = arca_session_eval(cpu, ids, n_ids, 1, &lc)) < 0)
		return die("CPU prompt", err);
	float *keep = malloc(n_ids * V * sizeof(float));
	memcpy(keep, lc, n_ids * V * sizeof(float));
	if ((err = arca_session_eval(gpu, ids, n_ids, 1, &lg)) < 0)
		return die("GPU prompt", err);
	double prefill = 0.0;
	int over = 0;   /* positions past the tolerance */
	for (size_t t = 0; t < n_ids; t++) {
		double r = rel_diff(keep + t * V, lg + t * V, V);
		prefill = r > prefill ? r : prefill;
		over += r > tol_prefill;
	}
	/* greedy: each side feeds its own choice; compared until the CPU's first near-tie */
	float gap_c, gap_g;
	int32_t tc = argmax(keep + (n_ids - 1) * V, (uint32_t)V, &gap_c);
	int32_t tg = argmax(lg + (n_ids - 1) * V, (uint32_t)V, &gap_g);
	double decode = 0.0;
	int steps = 0, same = 1, tie_at = -1;
	for (int s = 0; s < gen; s++) {
		if (gap_c < tie) {
			tie_at = s;
			break;
		}
		if (tc != tg) {
			same = 0;
			break;
		}
		steps++;
		if ((err = arca_session_eval(cpu, &tc, 1, 0, &lc)) < 0)
			return die("CPU decode", err);
		memcpy(keep, lc, V * sizeof(float));
		if ((err = arca_session_eval(gpu, &tg, 1, 0, &lg)) < 0)
			return die("GPU decode", err);
		double r = rel_diff(keep, lg, V);
		decode = r > decode ? r : decode;
		tc = argmax(keep, (uint32_t)V, &gap_c);
		tg = argmax(lg, (uint32_t)V, &gap_g);
	}
	int ok = same && prefill <= tol_prefill && decode <= tol;
	char products[256];   /* free text (a loader's error): no quotes or backslashes in JSON */
	snprintf(products, sizeof(products), "%s", arca_session_gpu_products(gpu));
	for (char *c = products; *c; c++)
		if (*c == '"' || *c == '\\' || (unsigned char)*c < 0x20)
			*c = '\'';
	printf("{\"model\": \"%s\", \"arch\": \"%s\", \"types\": \"%s\", \"reference\": \"%s\", "
		"\"gpu_layers\": %u, \"device\": \"%s\", \"kernels\": \"%s\", \"products\": \"%s\", "
		"\"prefill_rel\": %.3g, \"decode_rel\": %.3g, "
		"\"tol_prefill\": %g, \"tol\": %g, \"greedy_steps\": %d, \"greedy_same\": %s, "
		"\"near_tie_at\": %d, \"positions_over\": %d, \"ok\": %s}\n",
		path, in->arch, in->weight_types, dequant ? "dequant" : "same",
		arca_session_gpu_layers(gpu), arca_session_device_name(gpu), arca_session_kernels(gpu),
		products, prefill, decode,
		tol_prefill, tol, steps, same ? "true" : "false", tie_at, over, ok ? "true" : "false");
	arca_session_free(cpu);
	arca_session_free(gpu);
	if (ref_m != m)
		arca_model_free(ref_m);
	arca_gguf_free(ref_g);
	free(ref_file.data);
	arca_model_free(m);
	arca_gguf_free(g);
	munmap(map, (size_t)st.st_size);
	free(keep);
	return ok ? 0 : 1;
}

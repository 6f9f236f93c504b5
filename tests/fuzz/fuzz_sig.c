/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tests/fuzz/fuzz_sig.c — libFuzzer target for the signature readers: the first byte picks
 * one, the rest is its input. 0: a model.sig, parsed, judged against a key, a CA and the
 * synthetic Sigstore root from tests/data, and compared with a file list; 1: a Sigstore
 * trusted root. Any byte string is refused with an error or read whole (ASan and UBSan
 * check every access).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arca/sign.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len); /* libFuzzer calls it */

static char *root_text;
static size_t root_len;
static arca_key *key;

static void load_once(void)
{
	static int done;
	if (done)
		return;
	done = 1;
	FILE *f = fopen(ARCA_TEST_DATA "/model-signing/keyless-test-instance/trusted_root.json",
		"rb");
	if (f) {
		root_text = malloc(1 << 20);
		root_len = root_text ? fread(root_text, 1, (1 << 20) - 1, f) : 0;
		if (root_text)
			root_text[root_len] = '\0';
		fclose(f);
	}
	arca_key_generate(&key);
}

static void check_sig(const uint8_t *data, size_t len)
{
	arca_sig sig;
	if (arca_sig_parse(&sig, data, len, "fuzz.sig") != ARCA_OK)
		return;
	arca_sig_anchor anchors[3] = {
		{ .kind = ARCA_ANCHOR_KEY, .name = "k", .id = sig.hint, .key = key },
		{ .kind = ARCA_ANCHOR_CA, .name = "ca", .id = "", .text = "-----BEGIN CERTIFICATE-----\n",
			.len = 28 },
		{ .kind = ARCA_ANCHOR_SIGSTORE, .name = "root", .id = "", .text = root_text,
			.len = root_len },
	};
	arca_sig_verdict v;
	arca_sig_judge(&v, &sig, anchors, root_text ? 3 : 2, "someone@example.com", NULL);
	arca_sign_file files[2] = { { "a", "" }, { "b/c", "" } };
	arca_sig_file_result *r;
	size_t n;
	if (arca_sig_compare_files(&r, &n, &sig, files, 2) == ARCA_OK) {
		arca_sig_verdict_files(&v, r, n);
		free(r);
	}
	arca_sig_dispose(&sig);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	load_once();
	if (len < 1)
		return 0;
	if (data[0] == 1)
		arca_sig_check_trusted_root((const char *)data + 1, len - 1, "fuzz.json");
	else
		check_sig(data + 1, len - 1);
	return 0;
}

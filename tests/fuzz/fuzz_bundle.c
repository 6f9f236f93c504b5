/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tests/fuzz/fuzz_bundle.c — libFuzzer target for the bundle manifest reader (the first
 * thing arca import reads from a volume): any byte string is refused with an error or read
 * whole, and a manifest read whole has a plan that covers each blob (ASan and UBSan check
 * every access).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "store/bundle_internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len); /* libFuzzer calls it */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	arca_bundle__manifest m;
	if (arca_bundle__manifest_parse(&m, (const char *)data, len, "fuzz") != ARCA_OK)
		return 0;
	uint64_t planned = 0, total = 0;
	char name[128];
	for (size_t k = 0; k < m.n_volumes; k++)
		for (size_t i = 0; i < m.volumes[k].n; i++) {
			planned += m.volumes[k].entries[i].size;
			arca_bundle__entry_name(name, sizeof(name), &m, &m.volumes[k].entries[i]);
		}
	for (size_t i = 0; i < m.n_blobs; i++)
		total += m.blobs[i].size;
	if (planned != total)
		abort();
	free(arca_bundle__volume_json(&m, 1));
	arca_bundle__manifest_dispose(&m);
	return 0;
}

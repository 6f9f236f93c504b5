// SPDX-License-Identifier: Apache-2.0
// Loads a model from a Hugging Face cache folder the way @huggingface/hub (the Hub's own
// JavaScript client) does, with the network forbidden: scans the cache, then resolves every
// file by commit and by ref through downloadFileToCacheDir. Prints one JSON report.
//
//   node hf_cache_check.mjs CACHE_DIR org/name REF [NESTED_PATH...]
// (the scan lists top-level files only; nested paths are resolved as given)
import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import { downloadFileToCacheDir, scanCacheDir } from "@huggingface/hub";

const [cacheDir, repo, ref, ...nested] = process.argv.slice(2);
const offline = () => { throw new Error("network access attempted while offline"); };

const scan = await scanCacheDir(cacheDir);
const cached = scan.repos.find((r) => r.id.name === repo);
if (!cached) throw new Error(`repo ${repo} not found in the cache (${scan.warnings.join("; ")})`);
const revision = cached.revisions.find((r) => r.refs.includes(ref));
if (!revision) throw new Error(`no revision with ref ${ref}`);
const prefix = revision.path + "/";
const files = {};
const paths = revision.files.map((f) => f.path.slice(prefix.length)).concat(nested);
for (const rel of paths) {
  const local = await downloadFileToCacheDir({ repo, path: rel, revision: revision.commitOid,
    cacheDir, fetch: offline });
  const bytes = await readFile(local);
  files[rel] = { size: bytes.length, sha256: createHash("sha256").update(bytes).digest("hex") };
}
console.log(JSON.stringify({ warnings: scan.warnings.map(String), commit: revision.commitOid,
  refs: revision.refs, files }));

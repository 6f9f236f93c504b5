// SPDX-License-Identifier: Apache-2.0
// Reads a model from `arca serve` the way @huggingface/hub (the Hub's own JavaScript client)
// reads it from the Hub: modelInfo, listFiles (recursive, paged), downloadFile of every file,
// then snapshotDownload into a fresh cache folder. Prints one JSON report with each file's
// size and sha256 as each path saw it.
//
//   node hf_serve_check.mjs HUB_URL org/name REVISION CACHE_DIR [TOKEN]
// (the library accepts only tokens that start with "hf_")
import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { downloadFile, listFiles, modelInfo, snapshotDownload } from "@huggingface/hub";

const [hubUrl, repo, revision, cacheDir, token] = process.argv.slice(2);
console.debug = () => {}; // the library announces each download on stdout
const auth = token ? { accessToken: token } : {};
const sha256 = (bytes) => createHash("sha256").update(bytes).digest("hex");

const info = await modelInfo({ name: repo, revision, hubUrl, additionalFields: ["sha"], ...auth });
const listed = {};
const dirs = [];
for await (const entry of listFiles({ repo, revision, recursive: true, hubUrl, ...auth })) {
  if (entry.type === "directory") {
    dirs.push(entry.path);
    continue;
  }
  listed[entry.path] = { size: entry.size, oid: entry.oid, lfs: entry.lfs ?? null };
}
const downloaded = {};
for (const path of Object.keys(listed)) {
  const blob = await downloadFile({ repo, path, revision, hubUrl, ...auth });
  const bytes = Buffer.from(await blob.arrayBuffer());
  downloaded[path] = { size: bytes.length, sha256: sha256(bytes) };
}
const folder = await snapshotDownload({ repo, revision, cacheDir, hubUrl, ...auth });
const snapshot = {};
for (const path of Object.keys(listed)) {
  const bytes = await readFile(join(folder, path));
  snapshot[path] = { size: bytes.length, sha256: sha256(bytes) };
}
console.log(JSON.stringify({ sha: info.sha, name: info.name, folder, dirs, listed, downloaded,
  snapshot }));

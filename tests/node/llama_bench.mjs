// SPDX-License-Identifier: Apache-2.0
// llama.cpp's prefill and decode speed on a GGUF (node-llama-cpp's prebuilt CPU build), measured
// the way `arca bench` measures arca: a prompt of P pseudo-random tokens evaluated as one batch,
// then N tokens generated greedily one at a time, R repetitions each from an empty context.
// Prints ONE JSON line: {"prefill_tps": {"mean", "stdev"}, "decode_tps": {...}, "peak_rss_mib",
// "threads", "llama_cpp"}. Peak RSS is the whole node process (node itself is ~50 MiB of it).
//
//   node llama_bench.mjs MODEL.gguf [-p 512] [-n 128] [-r 3] [--threads T]
//
// Never builds or downloads llama.cpp: prebuilt CPU binary only.

import { availableParallelism } from "node:os";
import { resourceUsage } from "node:process";

process.env.NODE_LLAMA_CPP_SKIP_DOWNLOAD = "true";
process.env.NODE_LLAMA_CPP_GPU = "false";
process.env.NODE_LLAMA_CPP_POSTINSTALL = "skip";

function usage(msg) {
  if (msg) process.stderr.write(`llama_bench: ${msg}\n`);
  process.stderr.write("usage: node llama_bench.mjs MODEL.gguf [-p P] [-n N] [-r R] [--threads T]\n");
  process.exit(2);
}

const o = { p: 512, n: 128, r: 3, threads: Math.max(1, availableParallelism()) };
const argv = process.argv.slice(2);
for (let i = 0; i < argv.length; i++) {
  const a = argv[i];
  const val = () => {
    if (i + 1 >= argv.length || !/^\d+$/.test(argv[i + 1])) usage(`${a} needs a number`);
    return Number(argv[++i]);
  };
  if (a === "-p") o.p = val();
  else if (a === "-n") o.n = val();
  else if (a === "-r") o.r = Math.max(1, val());
  else if (a === "--threads" || a === "-t") o.threads = Math.max(1, val());
  else if (a.startsWith("-") || o.model) usage(`unexpected argument "${a}"`);
  else o.model = a;
}
if (!o.model) usage("no model given");

const { getLlama, LlamaLogLevel } = await import("node-llama-cpp");
const llama = await getLlama({ gpu: false, build: "never", skipDownload: true, usePrebuiltBinaries: true,
  progressLogs: false, logLevel: LlamaLogLevel.error, maxThreads: o.threads, vramPadding: 0, ramPadding: 0 });
const model = await llama.loadModel({ modelPath: o.model, gpuLayers: 0, useMmap: true,
  ignoreMemorySafetyChecks: true });
const nVocab = model.fileInfo.metadata?.tokenizer?.ggml?.tokens?.length ?? 32000;
const context = await model.createContext({ contextSize: Math.max(o.p, o.n) + 8, batchSize: Math.max(o.p, 1),
  sequences: 1, threads: o.threads, flashAttention: false, ignoreMemorySafetyChecks: true,
  batching: { dispatchSchedule: (dispatch) => dispatch() } });  // no event-loop wait per token
const seq = context.getSequence({ contextShift: { size: 0 } });

// the same pseudo-random prompt arca bench uses (an LCG, seed 42)
let state = 42n;
const prompt = [];
for (let i = 0; i <= o.p; i++) {
  state = (state * 6364136223846793005n + 1442695040888963407n) & ((1n << 64n) - 1n);
  prompt.push(Number((state >> 33n) % BigInt(nVocab)));
}
const sampling = { temperature: 0, topK: 0, topP: 1, minP: 0, yieldEogToken: true };

async function once(measure) {
  let pp = 0, tg = 0;
  await seq.clearHistory();
  if (o.p > 0) {
    const t0 = performance.now();
    await seq.evaluateWithoutGeneratingNewTokens(prompt.slice(0, o.p));
    pp = o.p / ((performance.now() - t0) / 1000);
    await seq.clearHistory();
  }
  const n = measure ? o.n : Math.min(o.n, 4);
  if (n > 0) {
    let count = 0;
    const t0 = performance.now();
    // the first token is evaluated alone too, as arca bench does
    for await (const t of seq.evaluate([prompt[0]], sampling)) {
      void t;
      if (++count >= n) break;
    }
    tg = n / ((performance.now() - t0) / 1000);
  }
  return [pp, tg];
}

const stat = (v) => {
  const mean = v.reduce((a, b) => a + b, 0) / v.length;
  const sd = v.length > 1 ? Math.sqrt(v.reduce((a, b) => a + (b - mean) ** 2, 0) / (v.length - 1)) : 0;
  return { mean, stdev: sd };
};
await once(false);  // warm-up: pages in the weights
const pps = [], tgs = [];
for (let r = 0; r < o.r; r++) {
  const [pp, tg] = await once(true);
  pps.push(pp); tgs.push(tg);
}
process.stdout.write(JSON.stringify({ prompt: o.p, gen: o.n, reps: o.r, threads: o.threads,
  prefill_tps: stat(pps), decode_tps: stat(tgs), peak_rss_mib: resourceUsage().maxRSS / 1024,
  llama_cpp: { release: llama.llamaCppRelease?.release ?? null, build_type: llama.buildType } }) + "\n");
await context.dispose(); await model.dispose(); await llama.dispose();
process.exit(0);

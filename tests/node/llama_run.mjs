// SPDX-License-Identifier: Apache-2.0
// Runs a GGUF through llama.cpp (the CPU build that node-llama-cpp ships prebuilt on npm) so that
// arca's output can be checked against it. Prints ONE JSON line on stdout; llama.cpp's own log
// lines (warnings and errors) go to stderr. Exit status 0 on success, 1 on a load/run failure
// (llama.cpp's error on stderr), 2 on a usage error.
//
//   node llama_run.mjs MODEL.gguf --prompt-ids 1,2,3 | --prompt TEXT [-n N] [--threads T]
//        [--ctx N] [--no-add-special] [--ignore-eos] [--top K] [--top-every-step] [--kv-f32]
//     greedy decoding (temperature 0: argmax, no repetition penalty, no top-k/top-p/min-p);
//     prints {"prompt_ids", "tokens", "text", "stopped_at_eog", "vocab_size", "n_ctx_train",
//             "n_embd", "arch", "logprobs_top", "llama_cpp"}
//   node llama_run.mjs MODEL.gguf --tokenize TEXT [--no-add-special]
//     prints {"ids": [...], "added_bos": bool, "added_eos": bool}
//   node llama_run.mjs MODEL.gguf --check-load
//     only loads the model (llama_model_load_from_file) and prints its metadata:
//     {"ok": true, "arch", "n_vocab", "n_embd", "n_layer", "n_ctx_train", "file_type",
//      "description", "size_bytes", "llama_cpp"}
//
// Text given with --prompt / --tokenize is tokenized as llama.cpp's common_tokenize(text,
// add_special=true, parse_special=true) does: special-token text such as <|im_start|> becomes the
// special token, and BOS/EOS are added when the model's metadata asks for them
// (tokenizer.ggml.add_bos_token / add_eos_token); --no-add-special leaves them out.
// --prompt-ids are fed exactly as given.
//
// logprobs_top: the 5 (or --top K) most likely tokens of the FIRST generated step as
// [id, log-probability] pairs, log-probability = logit - logsumexp(all logits) (float32 softmax
// over the whole vocabulary computed by node-llama-cpp's addon, then log). node-llama-cpp does not
// expose raw logits, so these are the logits shifted by one constant per step: differences between
// entries equal the differences of the raw logits.
//
// --top-every-step adds "logprobs_top_steps": the same top-K list for every generated step (step i
// = the distribution the i-th generated token was chosen from). --kv-f32 keeps the K/V cache in
// F32 instead of llama.cpp's default F16 (node-llama-cpp's experimentalKvCache{Key,Value}Type), so
// that logits can be compared with a float reference without the cache's rounding.
//
// Never builds or downloads llama.cpp: build "never", skipDownload, prebuilt CPU binary only.

import { access, constants } from "node:fs/promises";
import { availableParallelism } from "node:os";

process.env.NODE_LLAMA_CPP_SKIP_DOWNLOAD = "true";
process.env.NODE_LLAMA_CPP_GPU = "false";
process.env.NODE_LLAMA_CPP_POSTINSTALL = "skip";

function usage(msg) {
  if (msg) process.stderr.write(`llama_run: ${msg}\n`);
  process.stderr.write("usage: node llama_run.mjs MODEL.gguf (--prompt-ids 1,2,3 | --prompt TEXT) " +
    "[-n N] [--threads T] [--ctx N] [--no-add-special] [--ignore-eos] [--top K]\n" +
    "       [--top-every-step] [--kv-f32]\n" +
    "       node llama_run.mjs MODEL.gguf --tokenize TEXT [--no-add-special]\n" +
    "       node llama_run.mjs MODEL.gguf --check-load\n");
  process.exit(2);
}

function parseArgs(argv) {
  const o = { n: 16, threads: Math.max(1, availableParallelism()), addSpecial: true,
    ignoreEos: false, top: 5, ctx: 0 };
  const need = (i) => { if (i + 1 >= argv.length) usage(`${argv[i]} needs a value`); return argv[i + 1]; };
  const int = (s, name, min) => {
    if (!/^-?\d+$/.test(s) || Number(s) < min) usage(`${name}: expected an integer >= ${min}, got "${s}"`);
    return Number(s);
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    switch (a) {
      case "--prompt-ids": {
        const v = need(i++).trim();
        o.promptIds = v === "" ? [] : v.split(",").map((x) => int(x.trim(), "--prompt-ids", 0));
        break;
      }
      case "--prompt": o.prompt = need(i++); break;
      case "--tokenize": o.tokenize = need(i++); break;
      case "--check-load": o.checkLoad = true; break;
      case "-n": case "--n-predict": o.n = int(need(i++), a, 0); break;
      case "--threads": case "-t": o.threads = int(need(i++), a, 1); break;
      case "--ctx": case "-c": o.ctx = int(need(i++), a, 0); break;
      case "--top": o.top = int(need(i++), a, 0); break;
      case "--no-add-special": o.addSpecial = false; break;
      case "--ignore-eos": o.ignoreEos = true; break;
      case "--top-every-step": o.topEveryStep = true; break;
      case "--kv-f32": o.kvF32 = true; break;
      case "-h": case "--help": usage();
      default:
        if (a.startsWith("-") || o.model !== undefined) usage(`unexpected argument "${a}"`);
        o.model = a;
    }
  }
  if (o.model === undefined) usage("no model given");
  const modes = [o.promptIds !== undefined || o.prompt !== undefined, o.tokenize !== undefined, !!o.checkLoad];
  if (modes.filter(Boolean).length !== 1) usage("give exactly one of --prompt-ids/--prompt, --tokenize, --check-load");
  if (o.promptIds !== undefined && o.prompt !== undefined) usage("give --prompt-ids or --prompt, not both");
  return o;
}

const opts = parseArgs(process.argv.slice(2));

// llama.cpp's log lines, forwarded by node-llama-cpp; kept so a failure can show the real cause.
const logLines = [];
function logger(level, message) {
  const line = String(message).replace(/\n+$/, "");
  if (line === "") return;
  logLines.push(`[${level}] ${line}`);
  if (level === "error" || level === "fatal" || level === "warn") process.stderr.write(`llama.cpp ${level}: ${line}\n`);
}

function fail(err) {
  process.stderr.write(`llama_run: ${err && err.message ? err.message : String(err)}\n`);
  if (process.env.LLAMA_RUN_DEBUG) process.stderr.write(`${err && err.stack}\n--- llama.cpp log ---\n${logLines.join("\n")}\n`);
  process.exit(1);
}

let llama, model, context;
// Checked before llama.cpp sees the file so that a missing file is reported plainly.
try { await access(opts.model, constants.R_OK); } catch (e) { fail(new Error(`cannot read ${opts.model}: ${e.code || e.message}`)); }

const { getLlama, LlamaLogLevel } = await import("node-llama-cpp");

try {
  llama = await getLlama({
    gpu: false,                 // CPU only
    build: "never",             // never compile llama.cpp
    skipDownload: true,         // never fetch llama.cpp sources
    usePrebuiltBinaries: true,  // @node-llama-cpp/linux-x64 from npm
    progressLogs: false,
    logLevel: LlamaLogLevel.warn,
    logger,
    maxThreads: opts.threads,
    vramPadding: 0,
    ramPadding: 0,
  });
} catch (e) { fail(e); }

try {
  model = await llama.loadModel({
    modelPath: opts.model,
    gpuLayers: 0,
    useMmap: true,
    ignoreMemorySafetyChecks: true,
  });
} catch (e) {
  // llama.cpp's log lines reach JavaScript asynchronously: give them a moment to arrive.
  const isErr = (l) => l.startsWith("[error]") || l.startsWith("[fatal]");
  for (let waited = 0; waited < 1000 && !logLines.some(isErr); waited += 20)
    await new Promise((r) => setTimeout(r, 20));
  await new Promise((r) => setTimeout(r, 20));
  const errs = logLines.filter(isErr);
  fail(new Error(`failed to load ${opts.model}: ${e && e.message}` +
    (errs.length ? ` (${errs.join(" | ")})` : "")));
}

const md = model.fileInfo.metadata ?? {};
const arch = md.general?.architecture ?? String(model.architecture ?? "");
const archMd = md[arch] ?? {};
const tokenList = md.tokenizer?.ggml?.tokens;
const nVocabMeta = Array.isArray(tokenList) ? tokenList.length : null;
const llamaInfo = { release: llama.llamaCppRelease?.release ?? null, repo: llama.llamaCppRelease?.repo ?? null,
  build_type: llama.buildType, gpu: llama.gpu };

function emit(obj) { process.stdout.write(JSON.stringify(obj) + "\n"); }

function tokenizeText(text) {
  let ids = Array.from(model.tokenize(text, true));  // parse_special = true, add_special = false
  let addedBos = false, addedEos = false;
  if (opts.addSpecial) {
    if (model.tokens.shouldPrependBosToken && model.tokens.bos != null) { ids.unshift(model.tokens.bos); addedBos = true; }
    if (model.tokens.eos != null && model._model.shouldAppendEosToken()) { ids.push(model.tokens.eos); addedEos = true; }
  }
  return { ids, addedBos, addedEos };
}

async function done(code = 0) {
  try { await context?.dispose(); await model?.dispose(); await llama?.dispose(); } catch { /* exiting anyway */ }
  process.exit(code);
}

try {
  if (opts.checkLoad) {
    emit({ ok: true, arch, n_vocab: nVocabMeta, n_embd: archMd.embedding_length ?? null,
      n_layer: archMd.block_count ?? null, n_ctx_train: model.trainContextSize,
      n_embd_llama: model.embeddingVectorSize, file_type: md.general?.file_type ?? null,
      description: model.typeDescription, size_bytes: model.size, llama_cpp: llamaInfo });
    await done(0);
  }

  if (opts.tokenize !== undefined) {
    const t = tokenizeText(opts.tokenize);
    emit({ ids: t.ids, added_bos: t.addedBos, added_eos: t.addedEos });
    await done(0);
  }

  let promptIds;
  if (opts.promptIds !== undefined) promptIds = opts.promptIds;
  else promptIds = tokenizeText(opts.prompt).ids;
  if (promptIds.length === 0) throw new Error("empty prompt: llama.cpp needs at least one token to decode");
  const nVocab = nVocabMeta;
  for (const id of promptIds)
    if (nVocab != null && id >= nVocab) throw new Error(`prompt id ${id} is outside the vocabulary (n_vocab ${nVocab})`);

  const needed = promptIds.length + opts.n + 1;
  const contextSize = Math.max(opts.ctx || 0, needed, 64);
  context = await model.createContext({
    contextSize,
    batchSize: Math.max(promptIds.length, 1),  // the whole prompt in one llama_decode call
    sequences: 1,
    threads: opts.threads,
    flashAttention: false,
    ignoreMemorySafetyChecks: true,
    ...(opts.kvF32 ? { experimentalKvCacheKeyType: "F32", experimentalKvCacheValueType: "F32" } : {}),
  });
  const seq = context.getSequence({ contextShift: { size: 0 } });
  const sampling = { temperature: 0, topK: 0, topP: 1, minP: 0, yieldEogToken: true };

  const tokens = [];
  let logprobsTop = null, stoppedAtEog = false, vocabSize = nVocab;
  const topOf = (probabilities) => {
    const out = [];
    for (const [id, p] of probabilities) {
      if (out.length >= opts.top) break;
      out.push([id, Math.log(p)]);
    }
    return out;
  };
  let logprobsTopSteps = null;
  if (opts.n > 0 && opts.topEveryStep) {
    // Every step through the metadata generator, each with its full distribution.
    logprobsTopSteps = [];
    for await (const { token, probabilities } of
      seq.evaluateWithMetadata(promptIds, { probabilities: true }, sampling)) {
      vocabSize = probabilities.size;
      logprobsTopSteps.push(topOf(probabilities));
      tokens.push(token);
      if (model.isEogToken(token) && !opts.ignoreEos) { stoppedAtEog = true; break; }
      if (tokens.length >= opts.n) break;
    }
    logprobsTop = logprobsTopSteps[0] ?? null;
  } else if (opts.n > 0) {
    // Step 1 with the full distribution (for logprobs_top), then plain greedy steps.
    const gen = seq.evaluateWithMetadata(promptIds, { probabilities: true }, sampling);
    const first = await gen.next();
    await gen.return();
    if (!first.done) {
      const { token, probabilities } = first.value;
      vocabSize = probabilities.size;  // llama_vocab_n_tokens: the addon hands every logit over
      logprobsTop = [];
      for (const [id, p] of probabilities) {
        if (logprobsTop.length >= opts.top) break;
        logprobsTop.push([id, Math.log(p)]);
      }
      tokens.push(token);
      stoppedAtEog = model.isEogToken(token) && !opts.ignoreEos;
      if (!stoppedAtEog && tokens.length < opts.n) {
        for await (const t of seq.evaluate([token], sampling)) {
          tokens.push(t);
          if (model.isEogToken(t) && !opts.ignoreEos) { stoppedAtEog = true; break; }
          if (tokens.length >= opts.n) break;
        }
      }
    }
  }
  emit({ prompt_ids: promptIds, tokens, text: model.detokenize(tokens, true),
    stopped_at_eog: stoppedAtEog, vocab_size: vocabSize, n_ctx_train: model.trainContextSize,
    n_embd: archMd.embedding_length ?? model.embeddingVectorSize, arch,
    logprobs_top: logprobsTop, ...(logprobsTopSteps ? { logprobs_top_steps: logprobsTopSteps } : {}),
    threads: opts.threads, context_size: contextSize, llama_cpp: llamaInfo });
  await done(0);
} catch (e) { fail(e); }

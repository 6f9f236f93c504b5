// SPDX-License-Identifier: Apache-2.0
// Token ids from a tiktoken implementation not written here (js-tiktoken, the JavaScript port
// of OpenAI's tiktoken) for the tokenizer parity test of tiktoken.model vocabularies (Kimi K2
// style): every line of a corpus, and the whole corpus as one text, special-token text
// matched. Prints one JSON document {"tokenizer", "lines": [[ids]...], "whole": [ids]}.
//
//   node tiktoken_ref.mjs [--chatglm4] TIKTOKEN_MODEL TOKENIZER_CONFIG_JSON CORPUS.txt
//
// --chatglm4: GLM-4-9B-chat's ChatGLM4Tokenizer instead (tokenization_chatglm.py): its
// pat_str (LLaMA 3's split) and its 14 special tokens, fixed in that code at the ids right
// after the ranks, plus any added_tokens_decoder entries.
//
// The split regex is Kimi K2's pat_str (tokenization_kimi.py) in JavaScript's dialect:
// JavaScript has no class intersection in "u" mode and no (?i:…) groups before Node 23, so
// `[X&&[^\p{Han}]]` is written `(?:(?!\p{Script=Han})[X])` and the contractions spell out
// their cases. js-tiktoken compiles it with the flags "ug".

import { readFileSync } from "node:fs";
import { Tiktoken } from "js-tiktoken/lite";

const args = process.argv.slice(2);
const chatglm4 = args[0] === "--chatglm4";
const [modelPath, configPath, corpusPath] = chatglm4 ? args.slice(1) : args;
if (!modelPath || !configPath || !corpusPath) {
  process.stderr.write("usage: node tiktoken_ref.mjs [--chatglm4] TIKTOKEN_MODEL TOKENIZER_CONFIG CORPUS\n");
  process.exit(2);
}
const notHan = (cls) => String.raw`(?:(?!\p{Script=Han})[${cls}])`;
const upper = notHan(String.raw`\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}`);
const lower = notHan(String.raw`\p{Ll}\p{Lm}\p{Lo}\p{M}`);
const contractions = String.raw`(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])?`;
const kimiPatStr = [
  String.raw`[\p{Script=Han}]+`,
  String.raw`[^\r\n\p{L}\p{N}]?` + `${upper}*${lower}+${contractions}`,
  String.raw`[^\r\n\p{L}\p{N}]?` + `${upper}+${lower}*${contractions}`,
  String.raw`\p{N}{1,3}`,
  String.raw` ?[^\s\p{L}\p{N}]+[\r\n]*`,
  String.raw`\s*[\r\n]+`,
  String.raw`\s+(?!\S)`,
  String.raw`\s+`,
].join("|");
const glmPatStr = [
  String.raw`(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])`,
  String.raw`[^\r\n\p{L}\p{N}]?\p{L}+`,
  String.raw`\p{N}{1,3}`,
  String.raw` ?[^\s\p{L}\p{N}]+[\r\n]*`,
  String.raw`\s*[\r\n]+`,
  String.raw`\s+(?!\S)`,
  String.raw`\s+`,
].join("|");
const patStr = chatglm4 ? glmPatStr : kimiPatStr;
const glmSpecials = ["<|endoftext|>", "[MASK]", "[gMASK]", "[sMASK]", "<sop>", "<eop>",
  "<|system|>", "<|user|>", "<|assistant|>", "<|observation|>", "<|begin_of_image|>",
  "<|end_of_image|>", "<|begin_of_video|>", "<|end_of_video|>"];

// js-tiktoken's rank format: lines "<name> <first rank> <base64> <base64> …"
const ranks = readFileSync(modelPath, "utf8").split("\n").filter((l) => l.length > 0)
  .map((l) => { const [tok, rank] = l.split(" "); return `t ${rank} ${tok}`; }).join("\n");
const config = JSON.parse(readFileSync(configPath, "utf8"));
const special = {};
if (chatglm4) {
  const nRanks = ranks.split("\n").length;
  glmSpecials.forEach((t, k) => { special[t] = nRanks + k; });
}
for (const [id, tok] of Object.entries(config.added_tokens_decoder ?? {}))
  special[tok.content] = Number(id);
const enc = new Tiktoken({ pat_str: patStr, special_tokens: special, bpe_ranks: ranks });
const text = readFileSync(corpusPath, "utf8");
const encode = (s) => enc.encode(s, "all");
const lines = text.split("\n").filter((l) => l.length > 0);
const name = "js-tiktoken 1.0.21" + (chatglm4 ? ", ChatGLM4Tokenizer's pat_str and specials" : "");
process.stdout.write(JSON.stringify({ tokenizer: name, lines: lines.map(encode),
  whole: encode(text) }) + "\n");

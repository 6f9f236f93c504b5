// SPDX-License-Identifier: Apache-2.0
// Token ids from a tokenizer not written here (@lenml/tokenizers, a fork of transformers.js's
// tokenizers) for the tokenizer parity test: every line of a corpus, and the whole corpus as
// one text, encoded without added BOS/EOS (special-token text is matched, as Hugging Face
// does by default). Prints one JSON document {"tokenizer", "lines": [[ids]...], "whole": [ids]}.
//
//   node tokenize_ref.mjs TOKENIZER_DIR CORPUS.txt
//
// TOKENIZER_DIR holds tokenizer.json and tokenizer_config.json (uncompressed).

import { readFileSync } from "node:fs";
import { join } from "node:path";
import { TokenizerLoader } from "@lenml/tokenizers";

const [dir, corpusPath] = process.argv.slice(2);
if (!dir || !corpusPath) {
  process.stderr.write("usage: node tokenize_ref.mjs TOKENIZER_DIR CORPUS.txt\n");
  process.exit(2);
}
const tokenizer = TokenizerLoader.fromPreTrained({
  tokenizerJSON: JSON.parse(readFileSync(join(dir, "tokenizer.json"), "utf8")),
  tokenizerConfig: JSON.parse(readFileSync(join(dir, "tokenizer_config.json"), "utf8")),
});
const text = readFileSync(corpusPath, "utf8");
const encode = (s) => Array.from(tokenizer.encode(s, { add_special_tokens: false }));
const lines = text.split("\n").filter((l) => l.length > 0);
process.stdout.write(JSON.stringify({ tokenizer: "@lenml/tokenizers 3.7.2", lines: lines.map(encode),
  whole: encode(text) }) + "\n");

/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cli/cmd_tokenize.c — `arca tokenize TARGET [--] TEXT`: the token ids a model's own
 * tokenizer (from its GGUF) gives a text, for scripts and comparisons.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arca/tokenizer.h"
#include "model_open.h"

static struct {
	const char *file;
	int no_special, no_parse_special;
} opt;

static const cli_option options[] = {
	{ "file", 'f', CLI_STRING, "PATH", "read the text from a file ('-': standard input)",
		&opt.file },
	{ "no-special", 0, CLI_FLAG, NULL, "do not add BOS/EOS", &opt.no_special },
	{ "no-parse-special", 0, CLI_FLAG, NULL, "treat control-token text as plain text",
		&opt.no_parse_special },
	{ NULL, 0, 0, NULL, NULL, NULL },
};

const cli_spec cmd_tokenize_spec = {
	.name = "tokenize",
	.args = "TARGET [--] TEXT | TARGET --file PATH",
	.summary = "print the token ids of a text",
	.description =
		"TARGET is a .gguf file or a model in the store (REF:VARIANT, or REF). Prints the\n"
		"ids the model's tokenizer gives TEXT, space-separated; --json adds each token's\n"
		"text. BOS/EOS are added where the model's metadata asks (unless --no-special), and\n"
		"control-token text such as <|im_start|> becomes that token (unless\n"
		"--no-parse-special). After -- nothing is read as an option.",
	.options = options,
	.min_args = 1,
	.max_args = 2,
};

static char *read_all(FILE *f, size_t *len)
{
	size_t cap = 4096, n = 0;
	char *buf = malloc(cap);
	size_t got;
	while (buf && (got = fread(buf + n, 1, cap - n, f)) > 0) {
		n += got;
		if (n == cap) {
			char *b = realloc(buf, cap * 2);
			if (!b) {
				free(buf);
				return NULL;
			}
			buf = b;
			cap *= 2;
		}
	}
	*len = n;
	return buf;
}

int cmd_tokenize(int argc, char **argv)
{
	cli_ctx ctx;
	int rc = cli_parse(&ctx, &cmd_tokenize_spec, argc, argv);
	if (rc >= 0)
		return rc;
	if ((ctx.n_args == 2) == (opt.file != NULL))
		return cli_usage_error(&ctx, "tokenize: give the text as an argument or with --file, "
			"not both");
	char *text = NULL;
	size_t len = 0;
	if (opt.file) {
		FILE *f = strcmp(opt.file, "-") ? fopen(opt.file, "rb") : stdin;
		if (!f)
			return cli_fail(&ctx, arca_error_errno(errno, "%s", opt.file), "tokenize");
		text = read_all(f, &len);
		if (f != stdin)
			fclose(f);
		if (!text)
			return cli_fail(&ctx, arca_error_set(ARCA_ENOMEM, "out of memory"), "tokenize");
	}
	cli_model cm;
	arca_tokenizer *tok = NULL;
	int32_t *ids = NULL;
	size_t n = 0;
	arca_err err = cli_model_file_open(&cm, &ctx, ctx.args[0]);
	if (err == ARCA_OK && (err = arca_tokenizer_from_gguf(&tok, cm.file.gguf)) == ARCA_OK) {
		const char *t = text ? text : ctx.args[1];
		err = arca_tokenize(tok, t, text ? len : strlen(t),
			(opt.no_special ? 0u : ARCA_TOK_ADD_SPECIAL) |
			(opt.no_parse_special ? 0u : ARCA_TOK_PARSE_SPECIAL), &ids, &n);
	}
	if (err < 0) {
		rc = cli_fail(&ctx, err, "tokenize %s", ctx.args[0]);
	} else if (ctx.json) {
		json_t *a = json_array(), *texts = json_array();
		for (size_t i = 0; i < n; i++) {
			char piece[512];
			int k = arca_token_to_bytes(tok, ids[i], piece, sizeof(piece));
			json_array_append_new(a, json_integer(ids[i]));
			json_t *s = json_stringn(piece, (size_t)(k < 0 ? 0 : k < 512 ? k : 512));
			json_array_append_new(texts, s ? s : json_string(arca_tokenizer_text(tok, ids[i])));
		}
		rc = cli_print_json(json_pack("{s:o, s:o, s:I}", "ids", a, "tokens", texts, "n",
			(json_int_t)n));
	} else {
		for (size_t i = 0; i < n; i++)
			printf("%s%d", i ? " " : "", ids[i]);
		printf("\n");
		rc = CLI_EXIT_OK;
	}
	free(ids);
	free(text);
	arca_tokenizer_free(tok);
	cli_model_close(&cm);
	return rc;
}

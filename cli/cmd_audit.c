/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cli/cmd_audit.c — `arca audit FORK --base BASE | --scan`: what a fork is made of
 * (arca/audit.h), as text for a person, one JSON document (--json) and a self-contained
 * HTML page (--html FILE, cli/audit_html.c, built from the same JSON). Exit 0 when the
 * audit ran; 1 with --fail-on-claims when the card disagrees with the weights.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "arca/audit.h"
#include "audit_html.h"
#include "cli.h"

static struct {
	const char *base;
	int scan;
	int shallow;
	int top;
	const char *html;
	int fail_on_claims;
	int threads;
} opt;

static const cli_option options[] = {
	{ "base", 'b', CLI_STRING, "BASE", "the model FORK is compared with (REF, REF:VARIANT, "
		"a file or a folder)", &opt.base },
	{ "scan", 0, CLI_FLAG, NULL, "find the nearest bases among every stored model from the "
		"tensor index, then audit against the best one", &opt.scan },
	{ "shallow", 0, CLI_FLAG, NULL, "with --scan: rank candidates from the index only (no "
		"weights read)", &opt.shallow },
	{ "top", 'n', CLI_INT, "N", "with --scan: candidates to list (default 5)", &opt.top },
	{ "html", 0, CLI_STRING, "FILE", "also write a self-contained HTML report (per-layer "
		"heatmap, evidence, card checks)", &opt.html },
	{ "fail-on-claims", 0, CLI_FLAG, NULL, "exit 1 when the card's claims disagree with the "
		"weights", &opt.fail_on_claims },
	{ "threads", 'j', CLI_INT, "N", "threads (default: one per CPU)", &opt.threads },
	{ NULL, 0, 0, NULL, NULL, NULL },
};

const cli_spec cmd_audit_spec = {
	.name = "audit",
	.args = "FORK (--base BASE | --scan)",
	.summary = "what a fork is made of: relation to a base, evidence, card checks",
	.description =
		"Compares FORK with BASE tensor by tensor (as arca diff does) and classifies the\n"
		"relation with its evidence and a confidence: re-upload (every byte identical),\n"
		"conversion or requantization (values within the type's rounding; 'proof' when\n"
		"quantizing the base again gives the same bytes), fine-tune (the changed layers\n"
		"and how far each moved), permuted fine-tune (hidden units shuffled to hide the\n"
		"base: units are matched through the embedding and MLP rows and compared again),\n"
		"vocabulary extension, low-rank update (rank of the change, like a merged LoRA),\n"
		"partial merge (some layers from elsewhere, named when a stored model has their\n"
		"bytes) or unrelated. Then the fork's card (base_model, base_model_relation,\n"
		"licence) is checked against that evidence.\n"
		"--scan ranks every stored snapshot and variant as a base from the tensor index\n"
		"(identical tensor hashes first, then sketches estimating the global cosine; no\n"
		"weights read; FORK must be stored and indexed) and audits against the best one.\n"
		"A permuted fork is found with --base, not by --scan (sketches follow positions).\n"
		"Exit 0 when the audit ran; with --fail-on-claims, 1 when a card claim disagrees.",
	.options = options,
	.min_args = 1,
	.max_args = 1,
};

/* ------------------------------------------------------------------ JSON */

static json_t *number(double x)
{
	return isfinite(x) ? json_real(x) : json_null();
}

static json_t *tensors_json(const arca_diff_result *d)
{
	json_t *a = json_array();
	for (size_t i = 0; i < d->n_tensors; i++) {
		const arca_diff_tensor *t = &d->tensors[i];
		json_t *o = json_pack("{s:s,s:i,s:s,s:s,s:s,s:o,s:o}", "name", t->name, "layer",
			t->layer, "verdict", arca_diff_verdict_name(t->verdict), "dtype_base",
			t->dtype_a, "dtype_fork", t->dtype_b, "shape_base",
			cli_shape_json(t->n_dims_a, t->shape_a), "shape_fork",
			cli_shape_json(t->n_dims_b, t->shape_b));
		if (t->n_compared) {
			json_object_set_new(o, "cosine", number(t->cosine));
			json_object_set_new(o, "rel_l2", number(t->rel_l2));
			json_object_set_new(o, "frac_changed", number(t->frac_changed));
		}
		if (t->verdict == ARCA_DIFF_RESHAPED)
			json_object_set_new(o, "new_rows", json_integer(t->new_rows));
		if (t->reproduced)
			json_object_set_new(o, "reproduced", json_true());
		json_array_append_new(a, o);
	}
	return a;
}

static json_t *align_json(const arca_align_result *a)
{
	json_t *layers = json_array();
	for (size_t i = 0; i < a->n_layers; i++) {
		const arca_align_layer *l = &a->layers[i];
		json_array_append_new(layers, json_pack("{s:i,s:I,s:o,s:b,s:o}", "layer", l->layer,
			"units_sampled", (json_int_t)l->units_sampled, "units_matched",
			number(l->units_matched), "identity", l->identity, "cosine", number(l->cosine)));
	}
	return json_pack("{s:b,s:s,s:I,s:o,s:b,s:b,s:o,s:o}", "done", a->done, "note", a->note,
		"residual_sampled", (json_int_t)a->residual_sampled, "residual_matched",
		number(a->residual_matched), "residual_identity", a->residual_identity, "permuted",
		a->permuted, "cosine", number(a->cosine), "layers", layers);
}

static json_t *candidate_json(const arca_scan_candidate *c)
{
	return json_pack("{s:s,s:I,s:I,s:o,s:o,s:I,s:o}", "owner", c->owner, "tensors_identical",
		(json_int_t)c->n_identical, "bytes_identical", (json_int_t)c->bytes_identical,
		"identical_frac", number(c->identical_frac), "est_cosine", number(c->est_cosine),
		"matrices", (json_int_t)c->n_matrices, "score", number(c->score));
}

static json_t *audit_json(const arca_audit_result *r)
{
	json_t *changed = json_array(), *layers = json_array(), *ranks = json_array();
	json_t *claims = json_array(), *others = json_array(), *counts = json_object();
	for (size_t i = 0; i < r->n_changed_layers; i++)
		json_array_append_new(changed, json_integer(r->changed_layers[i]));
	for (size_t i = 0; i < r->n_layers; i++) {
		const arca_audit_layer *l = &r->layers[i];
		json_t *o = json_pack("{s:i,s:s,s:o,s:o}", "layer", l->layer, "status", l->status,
			"min_cosine", number(l->min_cosine), "median_cosine", number(l->median_cosine));
		if (l->source[0])
			json_object_set_new(o, "source", json_string(l->source));
		json_array_append_new(layers, o);
	}
	for (size_t i = 0; i < r->n_ranks; i++) {
		const arca_rank_estimate *e = &r->ranks[i];
		json_array_append_new(ranks, json_pack("{s:s,s:I,s:I,s:i,s:i,s:o}", "name", e->name,
			"rows", (json_int_t)e->rows, "cols", (json_int_t)e->cols, "rank", e->rank,
			"max_rank", e->max_rank, "energy", number(e->energy)));
	}
	for (size_t i = 0; i < r->n_claims; i++) {
		const arca_claim_check *c = &r->claims[i];
		json_array_append_new(claims, json_pack("{s:s,s:s,s:s,s:o,s:s}", "field", c->field,
			"claim", c->claim, "evidence", c->evidence, "agrees",
			c->agrees < 0 ? json_null() : json_boolean(c->agrees), "message", c->message));
	}
	for (size_t i = 0; i < r->n_others; i++)
		json_array_append_new(others, candidate_json(&r->others[i]));
	for (int v = 0; v < ARCA_DIFF_VERDICT_COUNT; v++)
		if (r->diff.count[v])
			json_object_set_new(counts, arca_diff_verdict_name((arca_diff_verdict)v),
				json_integer((json_int_t)r->diff.count[v]));
	return json_pack("{s:s,s:s,s:s,s:o,s:s,s:s,s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:i,s:I,s:o,s:I,"
		"s:o,s:o,s:o}",
		"fork", r->fork_what, "base", r->base_what, "relation",
		arca_relation_name(r->relation), "confidence", number(r->confidence), "level",
		r->level, "summary", r->summary, "changed_layers", changed, "layers", layers,
		"counts", counts, "global_cosine", number(r->diff.global_cosine), "tensors",
		tensors_json(&r->diff), "alignment", align_json(&r->align), "ranks", ranks,
		"low_rank", r->low_rank, "new_rows", (json_int_t)r->new_rows, "claims", claims,
		"disagreements", (json_int_t)r->n_disagreements, "others", others, "seconds",
		number(r->seconds), "bytes_read", json_integer((json_int_t)r->diff.bytes_read));
}

static json_t *scan_json(const arca_scan_result *s)
{
	json_t *list = json_array();
	for (size_t i = 0; i < s->n_candidates; i++)
		json_array_append_new(list, candidate_json(&s->candidates[i]));
	return json_pack("{s:s,s:o,s:I,s:I,s:o}", "fork", s->fork_what, "candidates", list,
		"models", (json_int_t)s->n_models, "files", (json_int_t)s->n_files,
		"seconds", number(s->seconds));
}

/* ------------------------------------------------------------------ text */

static void print_scan(const arca_scan_result *s)
{
	printf("scan: %zu stored models, %llu indexed files, %.3f s\n", s->n_models,
		(unsigned long long)s->n_files, s->seconds);
	if (!s->n_candidates) {
		printf("  no stored model shares tensors with %s or resembles it\n", s->fork_what);
		return;
	}
	printf("  %-52s %10s %9s %8s\n", "candidate", "identical", "est. cos", "score");
	for (size_t i = 0; i < s->n_candidates; i++) {
		const arca_scan_candidate *c = &s->candidates[i];
		printf("  %-52s %9.1f%% %9.4f %8.4f\n", c->owner, 100 * c->identical_frac,
			c->est_cosine, c->score);
	}
}

static void print_audit(const arca_audit_result *r)
{
	printf("fork:     %s\nbase:     %s\nrelation: %s (confidence %.2f, %s)\n  %s\n",
		r->fork_what, r->base_what, arca_relation_name(r->relation), r->confidence,
		r->level, r->summary);
	if (r->n_layers) {
		printf("\nlayers:\n  %-6s %-8s %11s %11s  %s\n", "layer", "status", "min cosine",
			"median", "source");
		for (size_t i = 0; i < r->n_layers; i++) {
			const arca_audit_layer *l = &r->layers[i];
			printf("  %-6d %-8s %11.6f %11.6f  %s\n", l->layer, l->status, l->min_cosine,
				l->median_cosine, l->source);
		}
	}
	if (r->align.done) {
		printf("\nhidden units: %.0f%% of %zu residual units matched%s; cosine after "
			"alignment %.6f\n", 100 * r->align.residual_matched, r->align.residual_sampled,
			r->align.permuted ? " (permuted)" : " (in place)", r->align.cosine);
	}
	for (size_t i = 0; i < r->n_ranks; i++) {
		const arca_rank_estimate *e = &r->ranks[i];
		if (e->rank >= 0)
			printf("rank of the change to %s: %d (%.1f%% of its energy)\n", e->name,
				e->rank, 100 * e->energy);
		else
			printf("rank of the change to %s: above %d\n", e->name, e->max_rank);
	}
	for (size_t i = 0; i < r->n_others; i++)
		printf("also shares %zu tensors byte for byte with %s\n", r->others[i].n_identical,
			r->others[i].owner);
	printf("\ncard:\n");
	for (size_t i = 0; i < r->n_claims; i++) {
		const arca_claim_check *c = &r->claims[i];
		int repeated = i > 0 && !strcmp(c->message, r->claims[i - 1].message);
		printf("  %-20s %-11s %s\n", c->field, c->agrees < 0 ? "-" : c->agrees ? "agrees" :
			"DISAGREES", repeated ? "(the same)" : c->message);
	}
	printf("\nglobal cosine %.6f; %.2f s\n", r->diff.global_cosine, r->seconds);
}

/* ------------------------------------------------------------------ the command */

int cmd_audit(int argc, char **argv)
{
	cli_ctx ctx;
	memset(&opt, 0, sizeof(opt));
	opt.top = 5;
	int rc = cli_parse(&ctx, &cmd_audit_spec, argc, argv);
	if (rc >= 0)
		return rc;
	const char *fork = ctx.args[0];
	if (!opt.base == !opt.scan)
		return cli_usage_error(&ctx, "give either --base BASE or --scan");
	if (opt.shallow && !opt.scan)
		return cli_usage_error(&ctx, "--shallow goes with --scan");
	if (opt.top < 1)
		return cli_usage_error(&ctx, "--top must be at least 1");
	if (opt.shallow && opt.html)
		return cli_usage_error(&ctx, "--html needs an audit; drop --shallow");
	arca_store *store = NULL;
	arca_err err = ARCA_OK;
	if (opt.scan || !cli_is_local(fork) || !cli_is_local(opt.base))
		err = cli_open_store(&store, &ctx, ARCA_LOCK_SHARED);
	if (err < 0)
		return cli_fail(&ctx, err, "audit %s", fork);
	cli_install_signal_handlers();

	arca_scan_result scan = { 0 };
	json_t *doc = json_object();
	char base_ref[400] = "";
	if (opt.scan) {
		err = arca_audit_scan(&scan, store, fork, (size_t)opt.top);
		if (err < 0) {
			rc = cli_fail(&ctx, err, "audit %s --scan", fork);
			goto done;
		}
		json_object_set_new(doc, "scan", scan_json(&scan));
		if (!ctx.json && !ctx.quiet)
			print_scan(&scan);
		if (scan.n_candidates)
			snprintf(base_ref, sizeof(base_ref), "%s", scan.candidates[0].owner);
		else if (!opt.shallow && !ctx.quiet && !ctx.json)
			printf("nothing to audit against\n");
	} else {
		snprintf(base_ref, sizeof(base_ref), "%s", opt.base);
	}

	arca_audit_result r = { 0 };
	int audited = 0;
	if (base_ref[0] && !opt.shallow) {
		cli_progress bar;
		cli_progress_init(&bar, &ctx, "comparing");
		arca_audit_opts aopts = ARCA_AUDIT_OPTS_INIT;
		aopts.threads = opt.threads;
		aopts.progress = cli_progress_bytes;
		aopts.payload = &bar;
		err = arca_audit_fork(&r, store, fork, base_ref, &aopts);
		cli_progress_finish(&bar);
		if (err < 0) {
			rc = cli_fail(&ctx, err, "audit %s against %s", fork, base_ref);
			arca_audit_result_dispose(&r);
			goto done;
		}
		audited = 1;
		json_t *a = audit_json(&r);
		json_object_update(doc, a);
		json_decref(a);
		if (!ctx.json && !ctx.quiet) {
			if (opt.scan)
				printf("\n");
			print_audit(&r);
		}
	}
	rc = CLI_EXIT_OK;
	if (opt.html && audited) {
		err = cli_audit_html_write(opt.html, doc);
		if (err < 0)
			rc = cli_fail(&ctx, err, "audit: write %s", opt.html);
		else if (!ctx.json && !ctx.quiet)
			printf("report written to %s\n", opt.html);
	} else if (opt.html) {
		cli_warn(&ctx, "no report written to %s: there was nothing to audit against",
			opt.html);
	}
	if (rc == CLI_EXIT_OK && ctx.json)
		rc = cli_print_json(json_incref(doc));
	if (rc == CLI_EXIT_OK && opt.fail_on_claims && audited && r.n_disagreements)
		rc = CLI_EXIT_FAILED;
	if (audited)
		arca_audit_result_dispose(&r);
done:
	json_decref(doc);
	arca_scan_result_dispose(&scan);
	arca_store_free(store);
	return rc;
}

/* SPDX-License-Identifier: Apache-2.0 */
/*
 * convert/fork_audit.c — `arca audit FORK --base BASE` (arca/audit.h): runs the diff, sorts
 * layers into same / changed / foreign, looks further where the diff cannot decide (hidden
 * units permuted: tensor_align.c; rank of a change: delta_rank.c; bytes of foreign layers
 * held by another stored model: the tensor index), classifies the relation with a
 * confidence, and checks the fork's card against it.
 *
 * Classification, first rule that fits:
 *   no tensor paired by name                                unrelated (nothing compared)
 *   every tensor identical                                  re-upload         proof
 *   every tensor the same values / converted / requantized  (re)quantization  proof when a
 *                                                           quantized tensor is reproduced
 *   every layer foreign and |global cosine| < 0.5: hidden units aligned with cosine ≥ 0.8
 *                                                           permuted fine-tune statistical
 *                                                  else     unrelated         statistical
 *   some layers foreign                                     partial merge     proof when a
 *                                                           stored model has their bytes
 *   embeddings with new rows, shared rows kept              vocabulary extension
 *   only matrices changed (no norm, no embedding), each of rank ≤ min(32, min(m,n)/4)
 *                                                           low-rank update
 *   otherwise                                               fine-tune
 * A layer is foreign when the median cosine of its matrices is below 0.5 (fine-tunes stay
 * near 1, independent weights near 0).
 */
#include <ctype.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <stdarg.h>
#include <time.h>

#include "arca/card.h"
#include "arca/catalog.h"
#include "arca/ref.h"
#include "arca/mapfile.h"
#include "convert/audit_internal.h"

#define FOREIGN_BELOW 0.5
#define RANK_SAMPLES 16
#define LOW_RANK_MAX 32

static const char *const relation_names[ARCA_RELATION_COUNT] = {
	"re-upload", "conversion", "requantization", "fine-tune", "permuted fine-tune",
	"vocabulary extension", "low-rank update", "partial merge", "unrelated",
};

const char *arca_relation_name(arca_relation r)
{
	return (unsigned)r < ARCA_RELATION_COUNT ? relation_names[r] : "?";
}

const char *arca_relation_card_values(arca_relation r)
{
	switch (r) {
	case ARCA_RELATION_REUPLOAD: return "";
	case ARCA_RELATION_CONVERSION: return "quantized";
	case ARCA_RELATION_REQUANTIZATION: return "quantized";
	case ARCA_RELATION_LOW_RANK: return "adapter finetune";
	case ARCA_RELATION_PARTIAL_MERGE: return "merge";
	case ARCA_RELATION_UNRELATED: return "";
	default: return "finetune";
	}
}

void arca_audit_result_dispose(arca_audit_result *r)
{
	if (!r)
		return;
	arca_diff_result_dispose(&r->diff);
	arca_convert__align_dispose(&r->align);
	free(r->layers);
	free(r->changed_layers);
	free(r->ranks);
	free(r->claims);
	free(r->others);
	memset(r, 0, sizeof(*r));
}

/* ------------------------------------------------------------------ small helpers */

/* Text for a person into a fixed buffer: cut short when it does not fit. */
__attribute__((format(printf, 3, 4)))
static void say(char *buf, size_t cap, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, cap, fmt, ap);
	va_end(ap);
}

static int equivalent(arca_diff_verdict v)
{
	return v == ARCA_DIFF_IDENTICAL || v == ARCA_DIFF_SAME_VALUES ||
		v == ARCA_DIFF_CONVERTED || v == ARCA_DIFF_REQUANTIZED;
}

static int is_matrix(const arca_diff_tensor *t)
{
	return t->n_dims_a >= 2 && t->n_dims_b >= 2;
}

static int is_embedding(const char *name)
{
	return strstr(name, "embed_tokens") || strstr(name, "lm_head") ||
		strstr(name, "word_embeddings") || strstr(name, "wte.");
}

static double tensor_cosine(const arca_diff_tensor *t)
{
	return equivalent(t->verdict) ? 1.0 : t->cosine;
}

static int by_double(const void *x, const void *y)
{
	double a = *(const double *)x, b = *(const double *)y;
	return a < b ? -1 : a > b;
}

/* "1, 3, 5-7" */
static void list_layers(char *buf, size_t cap, const int *layers, size_t n)
{
	size_t used = 0;
	buf[0] = 0;
	for (size_t i = 0; i < n && used < cap; i++) {
		size_t j = i;
		while (j + 1 < n && layers[j + 1] == layers[j] + 1)
			j++;
		if (j >= i + 2) {
			used += (size_t)snprintf(buf + used, cap - used, "%s%d-%d", i ? ", " : "",
				layers[i], layers[j]);
			i = j;
		} else {
			used += (size_t)snprintf(buf + used, cap - used, "%s%d", i ? ", " : "",
				layers[i]);
		}
	}
}

/* Index names: "model.layers.N." (Hugging Face) or "blk.N." (GGUF). */
static int index_layer(const char *name)
{
	const char *p = strstr(name, "layers.");
	if (p && (p == name || p[-1] == '.'))
		p += 7;
	else if (!strncmp(name, "blk.", 4))
		p = name + 4;
	else
		return -1;
	return isdigit((unsigned char)*p) ? (int)strtol(p, NULL, 10) : -1;
}

/* ------------------------------------------------------------------ layers */

static arca_err sort_layers(arca_audit_result *r)
{
	const arca_diff_result *d = &r->diff;
	r->layers = calloc(d->n_layers + 1, sizeof(*r->layers));
	r->changed_layers = calloc(d->n_layers + 1, sizeof(*r->changed_layers));
	double *cos = calloc(d->n_tensors + 1, sizeof(*cos));
	if (!r->layers || !r->changed_layers || !cos) {
		free(cos);
		return arca_error_set(ARCA_ENOMEM, "audit: out of memory");
	}
	for (size_t i = 0; i < d->n_layers; i++) {
		const arca_diff_layer *dl = &d->layers[i];
		arca_audit_layer *l = &r->layers[r->n_layers++];
		l->layer = dl->layer;
		size_t n = 0;
		for (size_t k = 0; k < d->n_tensors; k++) {
			const arca_diff_tensor *t = &d->tensors[k];
			if (t->layer == dl->layer && is_matrix(t) && t->n_compared)
				cos[n++] = tensor_cosine(t);
		}
		qsort(cos, n, sizeof(*cos), by_double);
		l->min_cosine = n ? cos[0] : 1;
		l->median_cosine = n ? (n % 2 ? cos[n / 2] : (cos[n / 2 - 1] + cos[n / 2]) / 2) : 1;
		if (!dl->n_changed)
			snprintf(l->status, sizeof(l->status), "same");
		else
			snprintf(l->status, sizeof(l->status), "%s",
				l->median_cosine < FOREIGN_BELOW ? "foreign" : "changed");
		if (dl->n_changed)
			r->changed_layers[r->n_changed_layers++] = dl->layer;
	}
	free(cos);
	return ARCA_OK;
}

static size_t count_status(const arca_audit_result *r, const char *status)
{
	size_t n = 0;
	for (size_t i = 0; i < r->n_layers; i++)
		n += !strcmp(r->layers[i].status, status);
	return n;
}

static void layers_with(const arca_audit_result *r, const char *status, int *out, size_t *n)
{
	*n = 0;
	for (size_t i = 0; i < r->n_layers; i++)
		if (!strcmp(r->layers[i].status, status))
			out[(*n)++] = r->layers[i].layer;
}

/* ------------------------------------------------------------------ the stored sides */

typedef struct {
	int stored;
	int64_t snapshot, artifact;
	char repo_id[200];
	char *card_json, *license_json;
} side;

static void side_dispose(side *s)
{
	free(s->card_json);
	free(s->license_json);
	memset(s, 0, sizeof(*s));
}

/* The card of a folder (its README.md), or of the snapshot a REF names. */
static arca_err side_open(side *s, arca_store *store, const char *target)
{
	memset(s, 0, sizeof(*s));
	struct stat st;
	if (stat(target, &st) == 0) {
		if (!S_ISDIR(st.st_mode))
			return ARCA_OK;
		char path[4096];
		snprintf(path, sizeof(path), "%s/README.md", target);
		arca_mapped_file *map = NULL;
		if (arca_map_file(&map, path) < 0) {
			arca_error_clear();
			return ARCA_OK;
		}
		if (arca_card_parse(&s->card_json, (const char *)map->data, map->size) < 0)
			arca_error_clear();
		arca_unmap_file(map);
		if (arca_card_license(&s->license_json, s->card_json, NULL, 0) < 0)
			arca_error_clear();
		return ARCA_OK;
	}
	if (!store)
		return ARCA_OK;
	arca_ref ref;
	arca_snapshot snap;
	arca_err err = arca_convert__find_ref(&snap, &s->artifact, &ref,
		arca_store_catalog(store), target);
	if (err < 0)
		return err;
	s->stored = 1;
	s->snapshot = snap.id;
	snprintf(s->repo_id, sizeof(s->repo_id), "%s", snap.repo_id);
	s->card_json = snap.card_json;
	s->license_json = snap.license_json;
	snap.card_json = snap.license_json = NULL;
	arca_snapshot_dispose(&snap);
	return ARCA_OK;
}

/* ------------------------------------------------------------------ foreign layers' bytes */

typedef struct {
	char sha[ARCA_SHA256_HEX];
	int layer;
} fork_tensor;

/* The fork's tensors (constant ones left out) in its index. */
static arca_err fork_tensors(fork_tensor **out, size_t *n_out, arca_catalog *cat,
	const side *f)
{
	*out = NULL;
	*n_out = 0;
	arca_weight_blob *blobs;
	size_t nb;
	arca_err err = arca_catalog_list_weight_blobs(&blobs, &nb, cat, f->snapshot, f->artifact);
	if (err < 0)
		return err;
	for (size_t b = 0; err == ARCA_OK && b < nb; b++) {
		if (blobs[b].artifact != f->artifact)
			continue;
		arca_tensor_record *rows;
		size_t n;
		if ((err = arca_catalog_list_tensors(&rows, &n, cat, blobs[b].sha256)) < 0)
			break;
		fork_tensor *grown = realloc(*out, (*n_out + n + 1) * sizeof(*grown));
		if (!grown) {
			arca_tensor_records_free(rows, n);
			err = arca_error_set(ARCA_ENOMEM, "audit: out of memory");
			break;
		}
		*out = grown;
		for (size_t i = 0; i < n; i++) {
			if (rows[i].has_values && rows[i].std == 0)
				continue;
			fork_tensor *t = &(*out)[(*n_out)++];
			memcpy(t->sha, rows[i].sha256, sizeof(t->sha));
			t->layer = index_layer(rows[i].name);
		}
		arca_tensor_records_free(rows, n);
	}
	arca_weight_blobs_free(blobs, nb);
	return err;
}

static int holds(char *const *shas, size_t n, const char *sha)
{
	size_t lo = 0, hi = n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(shas[mid], sha);
		if (!c)
			return 1;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return 0;
}

/* A layer the audit found changed or foreign. */
static int outside_base(const arca_audit_result *r, int layer)
{
	for (size_t i = 0; layer >= 0 && i < r->n_layers; i++)
		if (r->layers[i].layer == layer)
			return strcmp(r->layers[i].status, "same") != 0;
	return 0;
}

static int by_str(const void *x, const void *y)
{
	return strcmp(*(char *const *)x, *(char *const *)y);
}

/* For each foreign or changed layer, a stored model (not the base, not the fork) holding
 * every one of the fork's (non-constant) tensors of that layer byte for byte. */
static int by_hits(const void *x, const void *y)
{
	const arca_hash_hits *a = x, *b = y;
	if (a->n_tensors != b->n_tensors)
		return a->n_tensors > b->n_tensors ? -1 : 1;
	return strcmp(a->blob, b->blob);
}

/* The stored files (not the fork's, not the base's) holding bytes of the fork's changed
 * layers, most first: found through the catalog's sha256 index, so the cost follows what
 * is shared, not the size of the store. */
static arca_err find_sources(arca_audit_result *r, arca_catalog *cat, const side *f,
	const side *b)
{
	fork_tensor *ft;
	size_t nf;
	arca_err err = fork_tensors(&ft, &nf, cat, f);
	if (err < 0 || !nf) {
		free(ft);
		return err;
	}
	/* only tensors of layers that are not the base's count: copies of the base share
	 * every unchanged layer and say nothing about where the rest came from */
	const char **wanted = calloc(nf + 1, sizeof(*wanted));
	size_t n_wanted = 0;
	for (size_t i = 0; wanted && i < nf; i++)
		if (outside_base(r, ft[i].layer))
			wanted[n_wanted++] = ft[i].sha;
	arca_hash_hits *hits = NULL;
	arca_blob_owner *owners = NULL;
	size_t n_hits = 0, n_owners = 0;
	if (!wanted)
		err = arca_error_set(ARCA_ENOMEM, "audit: out of memory");
	else if (n_wanted)
		err = arca_catalog_hash_hits(&hits, &n_hits, cat, wanted, n_wanted);
	if (err == ARCA_OK && n_hits)
		err = arca_catalog_indexed_owners(&owners, &n_owners, cat, f->snapshot);
	if (n_hits)
		qsort(hits, n_hits, sizeof(*hits), by_hits);
	for (size_t h = 0; err == ARCA_OK && h < n_hits && r->n_others < 8; h++) {
		arca_tensor_record *rows;
		size_t n;
		if ((err = arca_catalog_list_tensors(&rows, &n, cat, hits[h].blob)) < 0)
			break;
		char **shas = calloc(n + 1, sizeof(*shas));
		for (size_t i = 0; shas && i < n; i++)
			shas[i] = rows[i].sha256;
		if (shas)
			qsort(shas, n, sizeof(*shas), by_str);
		for (size_t o = 0; shas && o < n_owners && r->n_others < 8; o++) {
			const arca_blob_owner *ow = &owners[o];
			if (strcmp(ow->blob, hits[h].blob) || (b->stored && ow->snapshot == b->snapshot))
				continue;
			arca_scan_candidate c = { 0 };
			snprintf(c.owner, sizeof(c.owner), "%s", ow->owner);
			c.snapshot = ow->snapshot;
			c.artifact = ow->artifact;
			c.n_identical = (size_t)hits[h].n_tensors;
			c.bytes_identical = hits[h].bytes;
			c.identical_frac = (double)c.n_identical / (double)n_wanted;
			/* the layers this file holds entirely */
			for (size_t l = 0; l < r->n_layers; l++) {
				arca_audit_layer *al = &r->layers[l];
				if (!strcmp(al->status, "same") || al->source[0])
					continue;
				size_t in_layer = 0, held = 0;
				for (size_t i = 0; i < nf; i++) {
					if (ft[i].layer != al->layer)
						continue;
					in_layer++;
					held += holds(shas, n, ft[i].sha);
				}
				if (in_layer && held == in_layer)
					snprintf(al->source, sizeof(al->source), "%s", ow->owner);
			}
			arca_scan_candidate *grown = realloc(r->others, (r->n_others + 1) * sizeof(*grown));
			if (!grown) {
				err = arca_error_set(ARCA_ENOMEM, "audit: out of memory");
				break;
			}
			r->others = grown;
			r->others[r->n_others++] = c;
		}
		free(shas);
		arca_tensor_records_free(rows, n);
	}
	arca_blob_owners_free(owners, n_owners);
	free(hits);
	free(wanted);
	free(ft);
	return err;
}

/* ------------------------------------------------------------------ ranks */

static int lowrank_candidate(const arca_diff_result *d)
{
	size_t changed = 0;
	for (size_t i = 0; i < d->n_tensors; i++) {
		const arca_diff_tensor *t = &d->tensors[i];
		if (equivalent(t->verdict))
			continue;
		if (t->verdict != ARCA_DIFF_CHANGED || !is_matrix(t) || is_embedding(t->name))
			return 0;
		changed++;
	}
	return changed > 0;
}

static arca_err estimate_ranks(arca_audit_result *r, const arca_tview *vb,
	const arca_tview *vf)
{
	const arca_diff_result *d = &r->diff;
	size_t changed = 0;
	for (size_t i = 0; i < d->n_tensors; i++)
		changed += d->tensors[i].verdict == ARCA_DIFF_CHANGED;
	size_t want = changed < RANK_SAMPLES ? changed : RANK_SAMPLES;
	r->ranks = calloc(want + 1, sizeof(*r->ranks));
	if (!r->ranks)
		return arca_error_set(ARCA_ENOMEM, "audit: out of memory");
	size_t seen = 0;
	for (size_t i = 0; i < d->n_tensors && r->n_ranks < want; i++) {
		const arca_diff_tensor *t = &d->tensors[i];
		if (t->verdict != ARCA_DIFF_CHANGED)
			continue;
		/* an even sample of the changed tensors */
		if ((seen++ * want) / changed != r->n_ranks)
			continue;
		const arca_tview_tensor *ta = arca_convert__tview_find(vb, t->name);
		const arca_tview_tensor *tb = arca_convert__tview_find(vf, t->name);
		if (!ta || !tb)
			continue;
		arca_err err = arca_convert__delta_rank(&r->ranks[r->n_ranks], vb, ta, vf, tb);
		if (err < 0)
			return err;
		r->n_ranks++;
	}
	int low = r->n_ranks > 0;
	int top = 0;
	for (size_t i = 0; i < r->n_ranks; i++) {
		const arca_rank_estimate *e = &r->ranks[i];
		int64_t small = e->rows < e->cols ? e->rows : e->cols;
		if (e->rank <= 0 || e->rank > LOW_RANK_MAX || e->rank > small / 4)
			low = 0;
		top = e->rank > top ? e->rank : top;
	}
	r->low_rank = low ? top : 0;
	return ARCA_OK;
}

/* ------------------------------------------------------------------ card claims */

static void add_claim(arca_audit_result *r, const char *field, const char *claim,
	const char *evidence, int agrees, const char *message)
{
	arca_claim_check *c = &r->claims[r->n_claims++];
	snprintf(c->field, sizeof(c->field), "%s", field);
	say(c->claim, sizeof(c->claim), "%s", claim);
	say(c->evidence, sizeof(c->evidence), "%s", evidence);
	say(c->message, sizeof(c->message), "%s", message);
	c->agrees = agrees;
	r->n_disagreements += agrees == 0;
}

/* base_model as one comma-separated string; "" when absent */
static void card_base_models(char *buf, size_t cap, json_t *card)
{
	buf[0] = 0;
	json_t *bm = card ? json_object_get(card, "base_model") : NULL;
	if (json_is_string(bm)) {
		snprintf(buf, cap, "%s", json_string_value(bm));
		return;
	}
	size_t i, used = 0;
	json_t *v;
	json_array_foreach(bm, i, v)
		if (json_is_string(v) && used < cap)
			used += (size_t)snprintf(buf + used, cap - used, "%s%s", used ? ", " : "",
				json_string_value(v));
}

static int names_repo(const char *list, const char *repo)
{
	size_t n = strlen(repo);
	for (const char *p = list; n && *p;) {
		while (*p == ' ' || *p == ',')
			p++;
		size_t len = strcspn(p, ",");
		while (len && p[len - 1] == ' ')
			len--;
		if (len == n && !strncasecmp(p, repo, n))
			return 1;
		p += strcspn(p, ",");
	}
	return 0;
}

static int value_in(const char *value, const char *allowed)
{
	size_t n = strlen(value);
	for (const char *p = allowed; n && *p;) {
		size_t len = strcspn(p, " ");
		if (len == n && !strncasecmp(p, value, n))
			return 1;
		p += len;
		while (*p == ' ')
			p++;
	}
	return 0;
}

static void check_claims(arca_audit_result *r, const side *fork, const side *base)
{
	r->claims = calloc(3, sizeof(*r->claims));
	if (!r->claims)
		return;
	if (fork->stored && base->stored && fork->snapshot == base->snapshot) {
		static const char *const fields[] = { "base_model", "base_model_relation", "license" };
		for (size_t i = 0; i < 3; i++)
			add_claim(r, fields[i], "", "", -1, "the fork is a variant of the base's own "
				"snapshot (a conversion arca made); they share one card");
		return;
	}
	json_t *card = fork->card_json ? json_loads(fork->card_json, 0, NULL) : NULL;
	int related = r->relation != ARCA_RELATION_UNRELATED;
	char claim[400], evidence[400], msg[600];
	const char *base_name = base->repo_id[0] ? base->repo_id : r->base_what;

	/* base_model */
	card_base_models(claim, sizeof(claim), card);
	say(evidence, sizeof(evidence), "%s %s", arca_relation_name(r->relation), base_name);
	int agrees = -1;
	if (!claim[0] && related) {
		agrees = 0;
		say(msg, sizeof(msg), "the card names no base model, but the weights are a %s "
			"of %s", arca_relation_name(r->relation), base_name);
	} else if (!claim[0]) {
		say(msg, sizeof(msg), "the card names no base model and the weights are "
			"unrelated to %s", base_name);
	} else if (!base->repo_id[0]) {
		say(msg, sizeof(msg), "the card says %s; the base here is a file, not a stored "
			"repository, so the names cannot be compared", claim);
	} else if (names_repo(claim, base->repo_id)) {
		agrees = related;
		say(msg, sizeof(msg), related ? "the card names %s as its base, and the weights "
			"agree" : "the card names %s as its base, but the weights are unrelated to it",
			base->repo_id);
	} else {
		agrees = related ? 0 : -1;
		say(msg, sizeof(msg), related ? "the card names %s as its base, but the weights "
			"are a %s of %s" : "the card names %s; the weights are unrelated to %s too",
			claim, related ? arca_relation_name(r->relation) : base_name,
			related ? base_name : "");
	}
	add_claim(r, "base_model", claim, evidence, agrees, msg);

	/* base_model_relation */
	json_t *rel = card ? json_object_get(card, "base_model_relation") : NULL;
	snprintf(claim, sizeof(claim), "%s", json_is_string(rel) ? json_string_value(rel) : "");
	const char *fits = arca_relation_card_values(r->relation);
	say(evidence, sizeof(evidence), "%s", fits[0] ? fits : "(none)");
	if (!claim[0] || !related) {
		agrees = -1;
		say(msg, sizeof(msg), "%s", claim[0] ? "the weights are unrelated to this base" :
			"the card states no relation");
	} else {
		agrees = value_in(claim, fits);
		say(msg, sizeof(msg), agrees ? "the card says %s, which fits a %s" :
			"the card says %s, but the weights show a %s", claim,
			arca_relation_name(r->relation));
	}
	add_claim(r, "base_model_relation", claim, evidence, agrees, msg);

	/* licence */
	char *lf = arca_card_license_summary(fork->license_json);
	char *lb = arca_card_license_summary(base->license_json);
	snprintf(claim, sizeof(claim), "%s", lf ? lf : "unknown");
	say(evidence, sizeof(evidence), "base: %s", lb ? lb : "unknown");
	int known = lf && lb && strcmp(lf, "unknown") && strcmp(lb, "unknown");
	if (!related || !known) {
		agrees = -1;
		say(msg, sizeof(msg), !related ? "not derived from this base" :
			"a licence is unknown on one side");
	} else {
		agrees = !strcasecmp(lf, lb);
		say(msg, sizeof(msg), agrees ? "the same licence as the base (%s)" :
			"the licence changed from %s (base) to %s", lb, lf);
	}
	add_claim(r, "license", claim, evidence, agrees, msg);
	free(lf);
	free(lb);
	json_decref(card);
}

/* ------------------------------------------------------------------ classification */

static void classify(arca_audit_result *r, int vocab_ok, int shared_same)
{
	const arca_diff_result *d = &r->diff;
	const size_t *c = d->count;
	size_t n = d->n_tensors;
	size_t moved = c[ARCA_DIFF_CHANGED] + c[ARCA_DIFF_RESHAPED] + c[ARCA_DIFF_ADDED] +
		c[ARCA_DIFF_REMOVED];
	char layers[300];
	list_layers(layers, sizeof(layers), r->changed_layers, r->n_changed_layers);
	const char *base = r->base_what;
	if (n && c[ARCA_DIFF_IDENTICAL] == n) {
		r->relation = ARCA_RELATION_REUPLOAD;
		r->confidence = 1;
		snprintf(r->level, sizeof(r->level), "proof");
		say(r->summary, sizeof(r->summary), "a re-upload of %s: all %zu tensors have the "
			"same bytes", base, n);
		return;
	}
	if (n && !moved) {
		size_t reproduced = 0, quantized = c[ARCA_DIFF_REQUANTIZED];
		for (size_t i = 0; i < n; i++)
			reproduced += d->tensors[i].reproduced;
		r->relation = quantized ? ARCA_RELATION_REQUANTIZATION : ARCA_RELATION_CONVERSION;
		int proof = quantized ? reproduced > 0 : !c[ARCA_DIFF_CONVERTED];
		r->confidence = proof ? 1 : 0.95;
		snprintf(r->level, sizeof(r->level), proof ? "proof" : "strong");
		if (quantized)
			say(r->summary, sizeof(r->summary), "a quantization of %s: %zu tensors "
				"requantized (%zu reproduced byte for byte by quantizing the base again), "
				"%zu the same values or converted, %zu identical", base, quantized, reproduced,
				c[ARCA_DIFF_SAME_VALUES] + c[ARCA_DIFF_CONVERTED], c[ARCA_DIFF_IDENTICAL]);
		else
			say(r->summary, sizeof(r->summary), "a dtype conversion of %s: %zu tensors "
				"the same values, %zu within the new dtype's rounding, %zu identical", base,
				c[ARCA_DIFF_SAME_VALUES], c[ARCA_DIFF_CONVERTED], c[ARCA_DIFF_IDENTICAL]);
		return;
	}
	size_t paired = 0;
	for (size_t i = 0; i < n; i++)
		paired += d->tensors[i].verdict != ARCA_DIFF_ADDED &&
			d->tensors[i].verdict != ARCA_DIFF_REMOVED;
	if (!paired) {
		r->relation = ARCA_RELATION_UNRELATED;
		r->confidence = 0.5;
		snprintf(r->level, sizeof(r->level), "statistical");
		say(r->summary, sizeof(r->summary), "nothing to compare: no tensor of the fork has "
			"a counterpart of the same name in %s (%zu added, %zu removed)", base,
			c[ARCA_DIFF_ADDED], c[ARCA_DIFF_REMOVED]);
		return;
	}
	size_t foreign = count_status(r, "foreign");
	if (r->n_layers && foreign == r->n_layers && fabs(d->global_cosine) < FOREIGN_BELOW) {
		const arca_align_result *a = &r->align;
		if (a->done && a->n_layers && a->residual_matched >= 0.5 && a->cosine >= 0.8) {
			r->relation = ARCA_RELATION_PERMUTED_FINETUNE;
			for (size_t i = 0; i < r->n_layers; i++)
				for (size_t k = 0; k < a->n_layers; k++)
					if (a->layers[k].layer == r->layers[i].layer && a->layers[k].cosine >= 0.8)
						snprintf(r->layers[i].status, sizeof(r->layers[i].status),
							"permuted");
			r->confidence = fmin(0.99, 0.5 + 0.5 * a->residual_matched * a->cosine);
			snprintf(r->level, sizeof(r->level), "statistical");
			double mlp = 0;
			for (size_t i = 0; i < a->n_layers; i++)
				mlp += a->layers[i].units_matched / (double)a->n_layers;
			say(r->summary, sizeof(r->summary), "a fine-tune of %s with its hidden units "
				"permuted: %.0f%% of the residual units and %.0f%% of the MLP units match "
				"one of the base's; the cosine after undoing the permutation is %.4f (%.4f "
				"before)", base, 100 * a->residual_matched, 100 * mlp, a->cosine,
				d->global_cosine);
		} else {
			r->relation = ARCA_RELATION_UNRELATED;
			r->confidence = fabs(d->global_cosine) < 0.1 ? 0.95 : 0.8;
			snprintf(r->level, sizeof(r->level), "statistical");
			say(r->summary, sizeof(r->summary), "unrelated to %s: global cosine %.4f, "
				"and %s", base, d->global_cosine, !a->done ? a->note :
				a->residual_matched < 0.5 ? "no alignment of hidden units found" :
				"the aligned weights are not close either");
		}
		return;
	}
	if (foreign) {
		int *f = calloc(r->n_layers + 1, sizeof(*f));
		size_t nf = 0, sourced = 0;
		char from[300] = "";
		if (f) {
			layers_with(r, "foreign", f, &nf);
			list_layers(from, sizeof(from), f, nf);
		}
		const char *source = "";
		for (size_t i = 0; i < r->n_layers; i++)
			if (!strcmp(r->layers[i].status, "foreign") && r->layers[i].source[0]) {
				sourced++;
				source = r->layers[i].source;
			}
		free(f);
		r->relation = ARCA_RELATION_PARTIAL_MERGE;
		r->confidence = sourced == foreign ? 0.99 : 0.9;
		snprintf(r->level, sizeof(r->level), sourced == foreign ? "proof" : "strong");
		say(r->summary, sizeof(r->summary), "a partial merge: layer%s %s from elsewhere%s%s"
			", the other %zu layer%s from %s", nf == 1 ? "" : "s", from,
			sourced == foreign ? " (" : "", sourced == foreign ? source : "",
			r->n_layers - foreign, r->n_layers - foreign == 1 ? "" : "s", base);
		if (sourced == foreign) {
			size_t len = strlen(r->summary);
			char *comma = strstr(r->summary, ", the other");
			if (comma && len + 1 < sizeof(r->summary)) {
				memmove(comma + 1, comma, len - (size_t)(comma - r->summary) + 1);
				*comma = ')';
			}
		}
		return;
	}
	if (vocab_ok) {
		r->relation = ARCA_RELATION_VOCAB_EXTENSION;
		r->confidence = shared_same ? 0.99 : 0.9;
		snprintf(r->level, sizeof(r->level), shared_same ? "proof" : "strong");
		say(r->summary, sizeof(r->summary), "a vocabulary extension of %s: %lld new "
			"rows, the shared rows %s%s%s", base, (long long)r->new_rows,
			shared_same ? "unchanged" : "close", r->n_changed_layers ? "; layers changed: " :
			"", layers);
		return;
	}
	if (r->low_rank) {
		r->relation = ARCA_RELATION_LOW_RANK;
		r->confidence = 0.9;
		snprintf(r->level, sizeof(r->level), "statistical");
		say(r->summary, sizeof(r->summary), "a low-rank update of %s (rank %d, like a "
			"merged LoRA) to %zu matri%s in layer%s %s; everything else unchanged", base,
			r->low_rank, c[ARCA_DIFF_CHANGED], c[ARCA_DIFF_CHANGED] == 1 ? "x" : "ces",
			r->n_changed_layers == 1 ? "" : "s", layers);
		return;
	}
	double min_cos = 1;
	for (size_t i = 0; i < r->n_layers; i++)
		min_cos = fmin(min_cos, r->layers[i].min_cosine);
	r->relation = ARCA_RELATION_FINETUNE;
	r->confidence = d->global_cosine >= 0.99 ? 0.99 : d->global_cosine >= 0.9 ? 0.95 : 0.8;
	snprintf(r->level, sizeof(r->level), c[ARCA_DIFF_IDENTICAL] ? "strong" : "statistical");
	say(r->summary, sizeof(r->summary), "a fine-tune of %s: %zu tensors changed in "
		"layer%s %s (lowest cosine %.4f), %zu identical; global cosine %.6f", base,
		c[ARCA_DIFF_CHANGED], r->n_changed_layers == 1 ? "" : "s",
		r->n_changed_layers ? layers : "(none: outside the layers)", min_cos,
		c[ARCA_DIFF_IDENTICAL], d->global_cosine);
}

/* ------------------------------------------------------------------ the audit */

arca_err arca_audit_fork(arca_audit_result *out, arca_store *store, const char *fork,
	const char *base, const arca_audit_opts *opts)
{
	memset(out, 0, sizeof(*out));
	arca_audit_opts defaults = ARCA_AUDIT_OPTS_INIT;
	if (!opts)
		opts = &defaults;
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	arca_diff_opts dopts = ARCA_DIFF_OPTS_INIT;
	dopts.threads = opts->threads;
	dopts.progress = opts->progress;
	dopts.payload = opts->payload;
	side sf = { 0 }, sb = { 0 };
	arca_tview *vb = NULL, *vf = NULL;
	arca_err err = arca_diff_models(&out->diff, store, base, fork, &dopts);
	if (err < 0)
		goto done;
	snprintf(out->base_what, sizeof(out->base_what), "%s", out->diff.what_a);
	snprintf(out->fork_what, sizeof(out->fork_what), "%s", out->diff.what_b);
	if (!out->diff.n_tensors) {
		err = arca_error_set(ARCA_EINVALID, "audit: neither %s nor %s has a tensor",
			out->fork_what, out->base_what);
		goto done;
	}
	if ((err = sort_layers(out)) < 0)
		goto done;
	/* vocabulary: every reshaped tensor an embedding with new rows and its shared rows kept */
	const arca_diff_result *d = &out->diff;
	int vocab_ok = d->count[ARCA_DIFF_RESHAPED] > 0 && !d->count[ARCA_DIFF_ADDED] &&
		!d->count[ARCA_DIFF_REMOVED];
	int shared_same = 1;
	for (size_t i = 0; i < d->n_tensors; i++) {
		const arca_diff_tensor *t = &d->tensors[i];
		if (t->verdict != ARCA_DIFF_RESHAPED)
			continue;
		if (!is_embedding(t->name) || t->new_rows <= 0 || !t->n_compared ||
		    !(t->shared_same || t->cosine >= 0.99))
			vocab_ok = 0;
		shared_same &= t->shared_same;
		out->new_rows = t->new_rows > out->new_rows ? t->new_rows : out->new_rows;
	}
	if ((err = side_open(&sf, store, fork)) < 0 || (err = side_open(&sb, store, base)) < 0)
		goto done;
	if (store && sf.stored &&
	    (err = find_sources(out, arca_store_catalog(store), &sf, &sb)) < 0)
		goto done;
	size_t foreign = count_status(out, "foreign");
	int all_foreign = out->n_layers && foreign == out->n_layers;
	if (all_foreign || lowrank_candidate(d)) {
		if ((err = arca_convert__tview_open(&vb, store, base)) < 0 ||
		    (err = arca_convert__tview_open(&vf, store, fork)) < 0)
			goto done;
	}
	if (all_foreign && fabs(d->global_cosine) < FOREIGN_BELOW &&
	    (err = arca_convert__align(&out->align, vb, vf)) < 0)
		goto done;
	if (!foreign && lowrank_candidate(d) && (err = estimate_ranks(out, vb, vf)) < 0)
		goto done;
	classify(out, vocab_ok, shared_same);
	check_claims(out, &sf, &sb);
done:
	arca_convert__tview_free(vb);
	arca_convert__tview_free(vf);
	side_dispose(&sf);
	side_dispose(&sb);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	out->seconds = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	return err;
}

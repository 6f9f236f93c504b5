/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cli/audit_html.c — the audit report as one self-contained HTML page (`arca audit
 * --html FILE`), built from the audit's JSON document: the verdict, a per-layer ×
 * per-tensor-kind heatmap of cosine similarity as inline SVG (no script, no external
 * asset, a <title> per cell for hovering), the card checks, the scan's candidates and the
 * evidence table of every tensor that is not identical. Written atomically.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit_html.h"
#include "arca/file_write.h"

#define CELL_W 34
#define CELL_H 20
#define LABEL_W 60
#define HEAD_H 160

static void esc(FILE *f, const char *s)
{
	for (; s && *s; s++) {
		switch (*s) {
		case '<': fputs("&lt;", f); break;
		case '>': fputs("&gt;", f); break;
		case '&': fputs("&amp;", f); break;
		case '"': fputs("&quot;", f); break;
		case '\'': fputs("&#39;", f); break;
		default: fputc(*s, f);
		}
	}
}

static const char *str(json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));
	return s ? s : "";
}

static double num(json_t *o, const char *key, double fallback)
{
	json_t *v = json_object_get(o, key);
	return json_is_number(v) ? json_number_value(v) : fallback;
}

/* Red (0) through yellow to green (1); cosines below 0 are red too. */
static void color(char *buf, size_t cap, double c)
{
	double t = c < 0 ? 0 : c > 1 ? 1 : c;
	snprintf(buf, cap, "hsl(%.0f,70%%,%.0f%%)", 120 * t, 45 + 10 * (1 - t));
}

/* The tensor kind of a layer tensor: its name after "layers.N.". */
static const char *kind_of(const char *name)
{
	const char *p = strstr(name, "layers.");
	if (!p)
		return NULL;
	p += 7;
	while (*p >= '0' && *p <= '9')
		p++;
	return *p == '.' ? p + 1 : NULL;
}

static int kind_index(const char **kinds, size_t n, const char *kind)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(kinds[i], kind))
			return (int)i;
	return -1;
}

static void heatmap(FILE *f, json_t *doc)
{
	json_t *tensors = json_object_get(doc, "tensors");
	json_t *layers = json_object_get(doc, "layers");
	json_t *aligned = json_object_get(json_object_get(doc, "alignment"), "layers");
	size_t n_layers = json_array_size(layers), n_t = json_array_size(tensors);
	const char **kinds = calloc(n_t + 1, sizeof(*kinds));
	size_t n_kinds = 0;
	size_t i;
	json_t *t;
	json_array_foreach(tensors, i, t) {
		const char *k = kinds ? kind_of(str(t, "name")) : NULL;
		if (k && kind_index(kinds, n_kinds, k) < 0)
			kinds[n_kinds++] = k;
	}
	int with_aligned = json_array_size(aligned) > 0;
	size_t cols = n_kinds + (size_t)with_aligned;
	if (!n_layers || !cols) {
		fputs("<p>No per-layer tensors to show.</p>\n", f);
		free(kinds);
		return;
	}
	size_t w = LABEL_W + cols * CELL_W + 130, h = HEAD_H + n_layers * CELL_H + 10;
	fprintf(f, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%zu\" height=\"%zu\" "
		"role=\"img\" aria-label=\"cosine similarity per layer and tensor kind\" "
		"class=\"heatmap\" font-family=\"sans-serif\" font-size=\"11\">\n", w, h);
	for (size_t k = 0; k < cols; k++) {
		const char *label = k < n_kinds ? kinds[k] : "aligned (all)";
		size_t len = strlen(label);
		if (len > 7 && !strcmp(label + len - 7, ".weight"))
			len -= 7;
		double x = LABEL_W + (double)k * CELL_W + CELL_W / 2.0;
		fprintf(f, "<text x=\"%.1f\" y=\"%d\" transform=\"rotate(-60 %.1f %d)\">", x,
			HEAD_H - 4, x, HEAD_H - 4);
		char cut[200];
		snprintf(cut, sizeof(cut), "%.*s", (int)(len < sizeof(cut) ? len : sizeof(cut) - 1),
			label);
		esc(f, cut);
		fputs("</text>\n", f);
	}
	for (size_t l = 0; l < n_layers; l++) {
		json_t *layer = json_array_get(layers, l);
		int index = (int)json_integer_value(json_object_get(layer, "layer"));
		double y = HEAD_H + (double)l * CELL_H;
		fprintf(f, "<text x=\"4\" y=\"%.1f\">layer %d</text>\n", y + CELL_H - 6, index);
		for (size_t k = 0; k < n_kinds; k++) {
			json_t *hit = NULL;
			json_array_foreach(tensors, i, t) {
				const char *kind = kind_of(str(t, "name"));
				if (kind && !strcmp(kind, kinds[k]) &&
				    json_integer_value(json_object_get(t, "layer")) == index) {
					hit = t;
					break;
				}
			}
			char fill[48] = "#ddd";
			double c = NAN;
			const char *verdict = hit ? str(hit, "verdict") : "absent";
			if (hit && (!strcmp(verdict, "identical") || !strcmp(verdict, "same values") ||
			    !strcmp(verdict, "converted") || !strcmp(verdict, "requantized")))
				c = 1;
			else if (hit)
				c = num(hit, "cosine", NAN);
			if (!isnan(c))
				color(fill, sizeof(fill), c);
			fprintf(f, "<rect class=\"cell\" x=\"%.1f\" y=\"%.1f\" width=\"%d\" height=\"%d\" "
				"fill=\"%s\" stroke=\"#fff\"><title>", LABEL_W + (double)k * CELL_W, y,
				CELL_W, CELL_H, fill);
			fprintf(f, "layer %d ", index);
			esc(f, kinds[k]);
			fputs(": ", f);
			esc(f, verdict);
			if (!isnan(c))
				fprintf(f, ", cosine %.6f", c);
			fputs("</title></rect>\n", f);
		}
		if (with_aligned) {
			json_t *a = NULL, *v;
			json_array_foreach(aligned, i, v)
				if (json_integer_value(json_object_get(v, "layer")) == index)
					a = v;
			char fill[48] = "#ddd";
			double c = a ? num(a, "cosine", NAN) : NAN;
			if (!isnan(c))
				color(fill, sizeof(fill), c);
			fprintf(f, "<rect class=\"cell\" x=\"%.1f\" y=\"%.1f\" width=\"%d\" height=\"%d\" "
				"fill=\"%s\" stroke=\"#333\"><title>layer %d after undoing the permutation: "
				"cosine %.6f</title></rect>\n", LABEL_W + (double)n_kinds * CELL_W, y, CELL_W,
				CELL_H, fill, index, c);
		}
	}
	fputs("</svg>\n", f);
	/* the legend */
	fputs("<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"260\" height=\"36\" "
		"font-family=\"sans-serif\" font-size=\"11\" class=\"legend\">\n"
		"<defs><linearGradient id=\"g\">", f);
	for (int s = 0; s <= 4; s++) {
		char fill[48];
		color(fill, sizeof(fill), s / 4.0);
		fprintf(f, "<stop offset=\"%d%%\" stop-color=\"%s\"/>", s * 25, fill);
	}
	fputs("</linearGradient></defs><rect x=\"10\" y=\"4\" width=\"200\" height=\"14\" "
		"fill=\"url(#g)\"/><text x=\"10\" y=\"32\">cosine 0</text><text x=\"180\" y=\"32\">1"
		"</text><rect x=\"220\" y=\"4\" width=\"14\" height=\"14\" fill=\"#ddd\"/>"
		"<text x=\"212\" y=\"32\">absent</text></svg>\n", f);
	free(kinds);
}

static void claims_table(FILE *f, json_t *doc)
{
	fputs("<h2>Card claims against the weights</h2>\n<table class=\"claims\"><tr><th>field"
		"</th><th>card says</th><th>weights say</th><th>check</th><th>why</th></tr>\n", f);
	size_t i;
	json_t *c;
	json_array_foreach(json_object_get(doc, "claims"), i, c) {
		json_t *agrees = json_object_get(c, "agrees");
		const char *check = json_is_true(agrees) ? "agrees" : json_is_false(agrees) ?
			"DISAGREES" : "-";
		fprintf(f, "<tr class=\"%s\"><td>", json_is_false(agrees) ? "bad" : "");
		esc(f, str(c, "field"));
		fputs("</td><td>", f);
		esc(f, str(c, "claim"));
		fputs("</td><td>", f);
		esc(f, str(c, "evidence"));
		fprintf(f, "</td><td>%s</td><td>", check);
		esc(f, str(c, "message"));
		fputs("</td></tr>\n", f);
	}
	fputs("</table>\n", f);
}

static void scan_table(FILE *f, json_t *scan)
{
	if (!scan)
		return;
	fprintf(f, "<h2>Scan</h2>\n<p>%lld stored models, %lld indexed files, %.3f s.</p>\n"
		"<table><tr><th>candidate</th><th>identical tensors</th><th>estimated cosine</th>"
		"<th>score</th></tr>\n",
		(long long)json_integer_value(json_object_get(scan, "models")),
		(long long)json_integer_value(json_object_get(scan, "files")),
		num(scan, "seconds", 0));
	size_t i;
	json_t *c;
	json_array_foreach(json_object_get(scan, "candidates"), i, c) {
		fputs("<tr><td>", f);
		esc(f, str(c, "owner"));
		fprintf(f, "</td><td>%.1f%%</td><td>%.4f</td><td>%.4f</td></tr>\n",
			100 * num(c, "identical_frac", 0), num(c, "est_cosine", 0), num(c, "score", 0));
	}
	fputs("</table>\n", f);
}

static void evidence_table(FILE *f, json_t *doc)
{
	fputs("<h2>Evidence: tensors that are not identical</h2>\n<table class=\"evidence\"><tr>"
		"<th>tensor</th><th>verdict</th><th>dtype</th><th>cosine</th><th>relative L2</th>"
		"</tr>\n", f);
	size_t i, shown = 0;
	json_t *t;
	json_array_foreach(json_object_get(doc, "tensors"), i, t) {
		if (!strcmp(str(t, "verdict"), "identical"))
			continue;
		shown++;
		fputs("<tr><td>", f);
		esc(f, str(t, "name"));
		fputs("</td><td>", f);
		esc(f, str(t, "verdict"));
		fputs("</td><td>", f);
		esc(f, str(t, "dtype_base"));
		fputs(" &#8594; ", f);
		esc(f, str(t, "dtype_fork"));
		double c = num(t, "cosine", NAN), r = num(t, "rel_l2", NAN);
		if (isnan(c))
			fputs("</td><td></td><td></td></tr>\n", f);
		else
			fprintf(f, "</td><td>%.6f</td><td>%.3g</td></tr>\n", c, r);
	}
	if (!shown)
		fputs("<tr><td colspan=\"5\">every tensor is identical</td></tr>\n", f);
	fputs("</table>\n", f);
}

arca_err cli_audit_html_write(const char *path, json_t *doc)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	if (!f)
		return arca_error_set(ARCA_ENOMEM, "audit report: out of memory");
	fputs("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n<title>arca "
		"audit: ", f);
	esc(f, str(doc, "fork"));
	fputs("</title>\n<style>\nbody{font-family:sans-serif;margin:2em;color:#222}\n"
		"table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;"
		"padding:3px 8px;text-align:left;font-size:13px}\nth{background:#f3f3f3}\n"
		"tr.bad td{background:#fde2e2}\n.verdict{font-size:1.3em;font-weight:bold}\n"
		"</style></head><body>\n<h1>Fork audit</h1>\n<table><tr><th>fork</th><td>", f);
	esc(f, str(doc, "fork"));
	fputs("</td></tr><tr><th>base</th><td>", f);
	esc(f, str(doc, "base"));
	fprintf(f, "</td></tr><tr><th>global cosine</th><td>%.6f</td></tr></table>\n"
		"<p class=\"verdict\" id=\"relation\">", num(doc, "global_cosine", 0));
	esc(f, str(doc, "relation"));
	fprintf(f, " &#8212; confidence %.2f (", num(doc, "confidence", 0));
	esc(f, str(doc, "level"));
	fputs(")</p>\n<p id=\"summary\">", f);
	esc(f, str(doc, "summary"));
	fputs("</p>\n<h2>Cosine similarity per layer and tensor kind</h2>\n", f);
	heatmap(f, doc);
	claims_table(f, doc);
	scan_table(f, json_object_get(doc, "scan"));
	evidence_table(f, doc);
	fputs("<p>Made by arca audit.</p>\n</body></html>\n", f);
	if (fclose(f) != 0) {
		free(buf);
		return arca_error_set(ARCA_EIO, "audit report: cannot build the page");
	}
	arca_err err = arca_file_write_atomic(path, buf, len, 0644);
	free(buf);
	return err;
}

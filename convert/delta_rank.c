/* SPDX-License-Identifier: Apache-2.0 */
/*
 * convert/delta_rank.c — the effective rank of the difference of two same-shape matrices
 * (convert/audit_internal.h), for telling a merged LoRA (ΔW = U·V of rank r) from a full
 * fine-tune (ΔW of full rank).
 *
 * Randomized range finder (Halko, Martinsson, Tropp 2011): Y = ΔW·Ω with Ω a seeded ±1
 * matrix of k columns, Q an orthonormal basis of Y (modified Gram–Schmidt), B = Qᵀ·ΔW, and
 * the eigenvalues of B·Bᵀ (k × k, Jacobi) are the squared singular values ΔW shows in that
 * range. Two streaming passes over the rows, m·n·k multiply-adds each, float64 throughout;
 * ‖ΔW‖² is summed exactly on the first pass. The rank reported is r where the spectrum
 * falls by 10× or more from one value to the next (the largest such fall) once the top r
 * hold 80% of ‖ΔW‖²: a low-rank update stored in BF16 is r strong directions over a floor
 * of full-rank rounding noise, while a full fine-tune's spectrum declines smoothly (no
 * such fall: -1, "above k"). An energy rule alone (the smallest r holding 90%) would cut
 * an update whose r directions have uneven strength short.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "convert/audit_internal.h"

#define MAX_K 48
#define ENERGY 0.8
#define GAP 10.0

static double sign_of(uint64_t i)
{
	uint64_t x = i * 0x9E3779B97F4A7C15ull + 0xA2CA5u;
	x ^= x >> 31;
	x *= 0xBF58476D1CE4E5B9ull;
	x ^= x >> 29;
	return (x >> 11) & 1 ? 1.0 : -1.0;
}

/* Eigenvalues of the symmetric k × k matrix g (destroyed) into ev, by cyclic Jacobi. */
static void jacobi_eigenvalues(double *g, size_t k, double *ev)
{
	for (int sweep = 0; sweep < 60; sweep++) {
		double off = 0;
		for (size_t p = 0; p < k; p++)
			for (size_t q = p + 1; q < k; q++)
				off += g[p * k + q] * g[p * k + q];
		if (off < 1e-30)
			break;
		for (size_t p = 0; p < k; p++) {
			for (size_t q = p + 1; q < k; q++) {
				double apq = g[p * k + q];
				if (fabs(apq) < 1e-300)
					continue;
				double theta = (g[q * k + q] - g[p * k + p]) / (2 * apq);
				double t = (theta >= 0 ? 1.0 : -1.0) / (fabs(theta) + sqrt(theta * theta + 1));
				double c = 1 / sqrt(t * t + 1), s = t * c;
				for (size_t r = 0; r < k; r++) {
					double grp = g[r * k + p], grq = g[r * k + q];
					g[r * k + p] = c * grp - s * grq;
					g[r * k + q] = s * grp + c * grq;
				}
				for (size_t r = 0; r < k; r++) {
					double gpr = g[p * k + r], gqr = g[q * k + r];
					g[p * k + r] = c * gpr - s * gqr;
					g[q * k + r] = s * gpr + c * gqr;
				}
			}
		}
	}
	for (size_t i = 0; i < k; i++)
		ev[i] = g[i * k + i];
}

static int descending(const void *x, const void *y)
{
	double a = *(const double *)x, b = *(const double *)y;
	return a < b ? 1 : a > b ? -1 : 0;
}

arca_err arca_convert__delta_rank(arca_rank_estimate *out, const arca_tview *va,
	const arca_tview_tensor *ta, const arca_tview *vb, const arca_tview_tensor *tb)
{
	memset(out, 0, sizeof(*out));
	snprintf(out->name, sizeof(out->name), "%s", tb->name);
	size_t m = (size_t)tb->n_rows, n = (size_t)tb->row_len;
	out->rows = (int64_t)m;
	out->cols = (int64_t)n;
	if (ta->n_rows != tb->n_rows || ta->row_len != tb->row_len)
		return arca_error_set(ARCA_EINVALID, "audit: %s has another shape on each side",
			tb->name);
	size_t k = MAX_K < m ? MAX_K : m;
	k = k < n ? k : n;
	out->max_rank = (int)k;
	float *ra = malloc(n * sizeof(float) + 1), *rb = malloc(n * sizeof(float) + 1);
	uint64_t sa = arca_convert__tview_scratch(va, ta), sb = arca_convert__tview_scratch(vb, tb);
	float *scratch = malloc(((size_t)(sa > sb ? sa : sb) + 1) * sizeof(float));
	double *d = malloc(n * sizeof(double) + 1);
	double *omega = malloc(n * k * sizeof(double) + 1);
	double *y = calloc(m * k + 1, sizeof(double));
	double *bm = calloc(k * n + 1, sizeof(double));
	double *g = calloc(k * k + 1, sizeof(double)), *ev = calloc(k + 1, sizeof(double));
	arca_err err = ra && rb && scratch && d && omega && y && bm && g && ev ? ARCA_OK :
		arca_error_set(ARCA_ENOMEM, "audit: out of memory estimating the rank of %s",
			tb->name);
	for (size_t i = 0; err == ARCA_OK && i < n * k; i++)
		omega[i] = sign_of(i);
	double total = 0;
	/* pass 1: Y = ΔW·Ω */
	for (size_t i = 0; err == ARCA_OK && i < m; i++) {
		if ((err = arca_convert__tview_rows(va, ta, i, 1, ra, scratch)) < 0 ||
		    (err = arca_convert__tview_rows(vb, tb, i, 1, rb, scratch)) < 0)
			break;
		double *yi = y + i * k;
		for (size_t c = 0; c < n; c++) {
			double dc = (double)rb[c] - (double)ra[c];
			total += dc * dc;
			const double *oc = omega + c * k;
			for (size_t j = 0; j < k; j++)
				yi[j] += dc * oc[j];
		}
	}
	/* Q: Gram–Schmidt over Y's columns, twice for stability; dependent columns drop */
	size_t kept = 0;
	for (size_t j = 0; err == ARCA_OK && j < k; j++) {
		for (int pass = 0; pass < 2; pass++)
			for (size_t p = 0; p < kept; p++) {
				double dot = 0;
				for (size_t i = 0; i < m; i++)
					dot += y[i * k + p] * y[i * k + j];
				for (size_t i = 0; i < m; i++)
					y[i * k + j] -= dot * y[i * k + p];
			}
		double norm = 0;
		for (size_t i = 0; i < m; i++)
			norm += y[i * k + j] * y[i * k + j];
		norm = sqrt(norm);
		if (norm <= 1e-12 * sqrt(total > 0 ? total : 1))
			continue;
		for (size_t i = 0; i < m; i++) {
			y[i * k + kept] = y[i * k + j] / norm;
			if (kept != j)
				y[i * k + j] = 0;
		}
		kept++;
	}
	/* pass 2: B = Qᵀ·ΔW */
	for (size_t i = 0; err == ARCA_OK && kept && i < m; i++) {
		if ((err = arca_convert__tview_rows(va, ta, i, 1, ra, scratch)) < 0 ||
		    (err = arca_convert__tview_rows(vb, tb, i, 1, rb, scratch)) < 0)
			break;
		for (size_t c = 0; c < n; c++)
			d[c] = (double)rb[c] - (double)ra[c];
		for (size_t j = 0; j < kept; j++) {
			double q = y[i * k + j];
			double *bj = bm + j * n;
			for (size_t c = 0; c < n; c++)
				bj[c] += q * d[c];
		}
	}
	if (err == ARCA_OK) {
		for (size_t p = 0; p < kept; p++)
			for (size_t q = p; q < kept; q++) {
				double s = 0;
				for (size_t c = 0; c < n; c++)
					s += bm[p * n + c] * bm[q * n + c];
				g[p * kept + q] = g[q * kept + p] = s;
			}
		jacobi_eigenvalues(g, kept, ev);
		qsort(ev, kept, sizeof(*ev), descending);
		/* the rank: where the spectrum drops by GAP at once after holding ENERGY */
		out->rank = total > 0 ? -1 : 0;
		double cum = 0, best = 0;
		for (size_t r = 0; total > 0 && r + 1 < kept; r++) {
			cum += ev[r] > 0 ? ev[r] : 0;
			double next = ev[r + 1] > 1e-300 ? ev[r + 1] : 1e-300;
			double ratio = ev[r] / next;
			if (cum >= ENERGY * total && ratio >= GAP && ratio > best) {
				best = ratio;
				out->rank = (int)r + 1;
				out->energy = cum / total;
			}
		}
		if (out->rank < 0 && total > 0)
			out->energy = cum / total;
	}
	free(ra);
	free(rb);
	free(scratch);
	free(d);
	free(omega);
	free(y);
	free(bm);
	free(g);
	free(ev);
	return err;
}

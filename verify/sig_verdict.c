/* SPDX-License-Identifier: Apache-2.0 */
/*
 * verify/sig_verdict.c — who made a signature, and whether anyone here trusts them
 * (arca/sign.h): key mode against trusted keys by hint, certificate mode against trusted
 * roots, Sigstore keyless against trusted Sigstore roots, with the identity/issuer policy;
 * then the files folded in. Distinguishes a signature that is broken (invalid) from one
 * that is intact but by a signer nobody trusts (untrusted), and says what was checked.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "verify/sig_internal.h"

const char *arca_sig_state_name(arca_sig_state state)
{
	switch (state) {
	case ARCA_SIG_VERIFIED: return "verified";
	case ARCA_SIG_UNTRUSTED: return "untrusted";
	case ARCA_SIG_INVALID: return "invalid";
	case ARCA_SIG_UNCHECKED: return "keyless";
	}
	return "?";
}

void arca_sig__note(char *buf, size_t cap, const char *fmt, ...)
{
	size_t used = strlen(buf);
	if (used + 3 >= cap)
		return;
	if (used) {
		memcpy(buf + used, "; ", 3);
		used += 2;
	}
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf + used, cap - used, fmt, ap);
	va_end(ap);
}

static void set_state(arca_sig_verdict *v, arca_sig_state state, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void set_state(arca_sig_verdict *v, arca_sig_state state, const char *fmt, ...)
{
	v->state = state;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(v->reason, sizeof(v->reason), fmt, ap);
	va_end(ap);
}

static void trusted_by(arca_sig_verdict *v, const arca_sig_anchor *a)
{
	v->state = ARCA_SIG_VERIFIED;
	v->reason[0] = '\0';
	snprintf(v->anchor, sizeof(v->anchor), "%s", a->name ? a->name : a->id);
	snprintf(v->anchor_id, sizeof(v->anchor_id), "%s", a->id ? a->id : "");
}

/* ------------------------------------------------------------------ key mode */

static void judge_key(arca_sig_verdict *v, const arca_sig *sig, const arca_sig_anchor *anchors,
	size_t n)
{
	snprintf(v->signer, sizeof(v->signer), "key %.16s", sig->hint[0] ? sig->hint : "(unnamed)");
	const arca_sig_anchor *distrusted = NULL;
	for (size_t i = 0; i < n; i++) {
		const arca_sig_anchor *a = &anchors[i];
		if (a->kind != ARCA_ANCHOR_KEY || (sig->hint[0] && strcmp(sig->hint, a->id) != 0))
			continue;
		if (sig->hint[0])
			snprintf(v->signer, sizeof(v->signer), "%s", a->name ? a->name : a->id);
		if (a->distrusted) {
			distrusted = a;
			continue;
		}
		if (arca_sig_check_key(sig, a->key) == ARCA_OK) {
			snprintf(v->signer, sizeof(v->signer), "%s", a->name ? a->name : a->id);
			arca_sig__note(v->checked, sizeof(v->checked), "ECDSA signature with trusted key %s",
				v->signer);
			trusted_by(v, a);
			return;
		}
		if (sig->hint[0]) {
			set_state(v, ARCA_SIG_INVALID, "%s", arca_error_last());
			arca_sig__note(v->checked, sizeof(v->checked), "signature with trusted key %s: fails",
				v->signer);
			return;
		}
	}
	if (distrusted)
		set_state(v, ARCA_SIG_UNTRUSTED, "signed with key %s, which is marked untrusted "
			"(arca key ls)", v->signer);
	else if (sig->hint[0])
		set_state(v, ARCA_SIG_UNTRUSTED, "signed with a key nobody here trusts (hint %s); "
			"trust its public key with: arca key trust PUB.pem", sig->hint);
	else
		set_state(v, ARCA_SIG_UNTRUSTED, "no trusted key verifies it (the bundle names no "
			"key: made by model_signing 1.0.x; re-sign it)");
	arca_sig__note(v->unchecked, sizeof(v->unchecked), "the ECDSA signature: no trusted key to "
		"check it with");
}

/* ------------------------------------------------------------------ certificates */

static void name_certificate_signer(arca_sig_verdict *v, const arca_sig *sig)
{
	snprintf(v->signer, sizeof(v->signer), "%s", sig->identity && sig->identity[0] ?
		sig->identity : sig->signer ? sig->signer : "?");
}

/* identity and issuer, when the caller asks for them */
static int policy_holds(arca_sig_verdict *v, const arca_sig *sig, const char *identity,
	const char *issuer)
{
	if (identity && strcmp(identity, sig->identity ? sig->identity : "") != 0) {
		set_state(v, ARCA_SIG_UNTRUSTED, "signed by %s, not by %s (--identity)",
			sig->identity && sig->identity[0] ? sig->identity : "a certificate with no e-mail "
			"or URI identity", identity);
		return 0;
	}
	if (issuer && strcmp(issuer, sig->issuer ? sig->issuer : "") != 0) {
		set_state(v, ARCA_SIG_UNTRUSTED, "its identity was issued by %s, not by %s "
			"(--issuer)", sig->issuer && sig->issuer[0] ? sig->issuer : "no OIDC issuer",
			issuer);
		return 0;
	}
	if (identity || issuer)
		arca_sig__note(v->checked, sizeof(v->checked), "identity%s%s%s%s against the policy",
			identity ? " " : "", identity ? identity : "", issuer ? " issued by " : "",
			issuer ? issuer : "");
	return 1;
}

static void judge_certificate(arca_sig_verdict *v, const arca_sig *sig,
	const arca_sig_anchor *anchors, size_t n, const char *identity, const char *issuer)
{
	size_t n_roots = 0;
	char last[ARCA_ERROR_MAX] = "";
	for (size_t i = 0; i < n; i++) {
		const arca_sig_anchor *a = &anchors[i];
		if (a->kind != ARCA_ANCHOR_CA || a->distrusted)
			continue;
		n_roots++;
		if (arca_sig_check_chain(sig, &a->text, 1) != ARCA_OK) {
			snprintf(last, sizeof(last), "%s", arca_error_last());
		} else {
			arca_sig__note(v->checked, sizeof(v->checked), "certificate chain to trusted root %s at "
				"the leaf's issue time; key usage", a->name ? a->name : a->id);
			if (policy_holds(v, sig, identity, issuer))
				trusted_by(v, a);
			return;
		}
	}
	if (n_roots == 0)
		set_state(v, ARCA_SIG_UNTRUSTED, "signed by certificate %s; no root certificate is "
			"trusted here (arca key trust CA.pem)", v->signer);
	else
		set_state(v, ARCA_SIG_UNTRUSTED, "signed by certificate %s, which none of the %zu "
			"trusted roots accepts (%s)", v->signer, n_roots, last);
	arca_sig__note(v->unchecked, sizeof(v->unchecked), "who signed: the certificate chains to no "
		"trusted root");
}

/* ------------------------------------------------------------------ keyless */

/* Against every trusted Sigstore root at once (their logs and CAs pooled): a failure is
 * invalid when the bundle contradicts itself or its log, untrusted when only trust is
 * missing (no root knows its log or CA) or the policy names another signer. */
static void judge_keyless(arca_sig_verdict *v, const arca_sig *sig,
	const arca_sig_anchor *anchors, size_t n, const char *identity, const char *issuer)
{
	const char *roots[16];
	size_t lens[16], n_roots = 0;
	const arca_sig_anchor *first = NULL;
	for (size_t i = 0; i < n && n_roots < 16; i++) {
		if (anchors[i].kind != ARCA_ANCHOR_SIGSTORE || anchors[i].distrusted)
			continue;
		first = first ? first : &anchors[i];
		roots[n_roots] = anchors[i].text;
		lens[n_roots++] = anchors[i].len;
	}
	if (!n_roots) {
		set_state(v, ARCA_SIG_UNCHECKED, "Sigstore keyless signature by %s (issuer %s); no "
			"trusted Sigstore root to check it with (arca key trust trusted_root.json)",
			sig->identity && sig->identity[0] ? sig->identity : "?",
			sig->issuer && sig->issuer[0] ? sig->issuer : "?");
		arca_sig__note(v->unchecked, sizeof(v->unchecked), "the certificate chain to a Fulcio CA; "
			"the transparency log entry and its signed timestamp: no trusted Sigstore root");
		arca_sig_verdict policy = *v;
		if (!policy_holds(&policy, sig, identity, issuer)) {
			v->state = ARCA_SIG_UNTRUSTED;
			memcpy(v->reason, policy.reason, sizeof(v->reason));
		}
		return;
	}
	arca_sig_policy policy = { identity, issuer };
	arca_sig_report report = { "", "", 0 };
	arca_err err = arca_sig_check_keyless(sig, roots, lens, n_roots, &policy, &report);
	arca_sig__note(v->checked, sizeof(v->checked), "%s", report.checked);
	arca_sig__note(v->unchecked, sizeof(v->unchecked), "%s", report.unchecked);
	if (err == ARCA_OK) {
		trusted_by(v, n_roots == 1 ? first : &(arca_sig_anchor){ .name = "Sigstore roots",
			.id = "" });
		return;
	}
	set_state(v, report.untrusted ? ARCA_SIG_UNTRUSTED : ARCA_SIG_INVALID, "%s",
		arca_error_last());
}

/* ------------------------------------------------------------------ the verdict */

void arca_sig_judge(arca_sig_verdict *out, const arca_sig *sig, const arca_sig_anchor *anchors,
	size_t n_anchors, const char *identity, const char *issuer)
{
	memset(out, 0, sizeof(*out));
	arca_sig__note(out->checked, sizeof(out->checked), "bundle and statement (root digest %.16s… "
		"over %zu files)", sig->root, sig->n_files);
	if (sig->mode == ARCA_SIG_KEY) {
		if (identity || issuer) {
			judge_key(out, sig, anchors, n_anchors);
			set_state(out, out->state == ARCA_SIG_INVALID ? ARCA_SIG_INVALID :
				ARCA_SIG_UNTRUSTED, "signed with a key, not a certificate: --identity and "
				"--issuer cannot hold");
			return;
		}
		judge_key(out, sig, anchors, n_anchors);
		return;
	}
	name_certificate_signer(out, sig);
	if (arca_sig_check_leaf(sig) < 0) {
		set_state(out, ARCA_SIG_INVALID, "%s", arca_error_last());
		return;
	}
	arca_sig__note(out->checked, sizeof(out->checked), "ECDSA signature with the certificate's key");
	if (sig->mode == ARCA_SIG_CERTIFICATE)
		judge_certificate(out, sig, anchors, n_anchors, identity, issuer);
	else
		judge_keyless(out, sig, anchors, n_anchors, identity, issuer);
}

void arca_sig_verdict_files(arca_sig_verdict *v, const arca_sig_file_result *files, size_t n)
{
	char differences[ARCA_ERROR_MAX - 64];
	if (arca_sig_describe_differences(differences, sizeof(differences), files, n) == 0) {
		arca_sig__note(v->checked, sizeof(v->checked), "%zu file digests", n);
		return;
	}
	set_state(v, ARCA_SIG_INVALID, "the files differ from what was signed:%s", differences);
}

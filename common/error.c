/* SPDX-License-Identifier: Apache-2.0 */
/*
 * common/error.c — thread-local error messages for arca/error.h.
 *
 * One fixed buffer per thread: setting a message never allocates, so an out-of-memory path
 * can still report itself. Messages longer than ARCA_ERROR_MAX are cut with "...".
 */
#include "arca/error.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static _Thread_local char message[ARCA_ERROR_MAX];
static _Thread_local arca_err last_code;

static void mark_truncated(int written)
{
	if (written >= (int)sizeof(message))
		memcpy(message + sizeof(message) - 4, "...", 4);
}

arca_err arca_error_set(arca_err code, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(message, sizeof(message), fmt, ap);
	va_end(ap);
	mark_truncated(n);
	last_code = code;
	return code;
}

arca_err arca_error_errno(int errnum, const char *fmt, ...)
{
	arca_err code;
	switch (errnum) {
	case ENOENT: case ENOTDIR: code = ARCA_ENOTFOUND; break;
	case EACCES: case EPERM: case EROFS: code = ARCA_EDENIED; break;
	case ENOMEM: code = ARCA_ENOMEM; break;
	case EEXIST: case ENOTEMPTY: code = ARCA_EEXISTS; break;
	case EINTR: code = ARCA_EINTERRUPTED; break;
	default: code = ARCA_EIO; break;
	}
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(message, sizeof(message), fmt, ap);
	va_end(ap);
	if (n >= 0 && n < (int)sizeof(message))
		n += snprintf(message + n, sizeof(message) - (size_t)n, ": %s", strerror(errnum));
	mark_truncated(n);
	last_code = code;
	return code;
}

arca_err arca_error_prefix(arca_err code, const char *fmt, ...)
{
	char old[ARCA_ERROR_MAX];
	memcpy(old, message, sizeof(old));
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(message, sizeof(message), fmt, ap);
	va_end(ap);
	if (n >= 0 && n < (int)sizeof(message) && old[0])
		n += snprintf(message + n, sizeof(message) - (size_t)n, ": %s", old);
	mark_truncated(n);
	last_code = code;
	return code;
}

const char *arca_error_last(void)
{
	return message;
}

arca_err arca_error_last_code(void)
{
	return last_code;
}

void arca_error_clear(void)
{
	message[0] = '\0';
	last_code = ARCA_OK;
}

const char *arca_error_name(arca_err code)
{
	switch (code) {
	case ARCA_OK: return "ok";
	case ARCA_EINVALID: return "invalid";
	case ARCA_ENOTFOUND: return "not found";
	case ARCA_EIO: return "i/o error";
	case ARCA_ECORRUPT: return "corrupt";
	case ARCA_EMISMATCH: return "mismatch";
	case ARCA_ENET: return "network error";
	case ARCA_ENOMEM: return "out of memory";
	case ARCA_EEXISTS: return "exists";
	case ARCA_ELOCKED: return "locked";
	case ARCA_EVERSION: return "version";
	case ARCA_EDENIED: return "denied";
	case ARCA_EUNSUPPORTED: return "unsupported";
	case ARCA_EINTERRUPTED: return "interrupted";
	}
	return "unknown error";
}

void arca_error_save(arca_error_saved *out)
{
	out->code = last_code;
	memcpy(out->message, message, sizeof(out->message));
}

arca_err arca_error_restore(const arca_error_saved *saved)
{
	memcpy(message, saved->message, sizeof(message));
	message[sizeof(message) - 1] = '\0';
	last_code = saved->code;
	return saved->code;
}

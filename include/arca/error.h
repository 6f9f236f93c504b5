/* SPDX-License-Identifier: Apache-2.0 */
/*
 * arca/error.h — the one error convention of libarca.
 *
 * Every fallible function returns an arca_err: ARCA_OK (0) or a negative code. The code says
 * what kind of failure it was (the command line maps it to an exit status); the message says
 * which file, blob, URL or tensor and why. The message lives in thread-local storage and is
 * set in the same statement that returns the code, so the two cannot drift:
 *
 *     return arca_error_set(ARCA_ECORRUPT, "%s: header ends past end of file", path);
 *
 * Callers add context as the error bubbles up:
 *
 *     if ((err = put(...)) < 0)
 *         return arca_error_prefix(err, "add %s", ref);
 *
 * Nothing in libarca prints or exits; only cli/ reads arca_error_last() and talks to the user.
 * Worker threads copy their message with arca_error_save() and the spawning thread restores
 * it with arca_error_restore().
 */
#ifndef ARCA_ERROR_H
#define ARCA_ERROR_H

#include <stddef.h>

typedef enum {
	ARCA_OK = 0,
	ARCA_EINVALID = -1,   /* bad argument or malformed input (REF, option, file format) */
	ARCA_ENOTFOUND = -2,  /* no such file, blob, snapshot, ref, revision */
	ARCA_EIO = -3,        /* the operating system refused a read or write */
	ARCA_ECORRUPT = -4,   /* a file or answer is malformed (a failure, not exit 3) */
	ARCA_EMISMATCH = -5,  /* a hash or signature does not match what was expected: the only
	                         code the command line reports as "verification failed" */
	ARCA_ENET = -6,       /* network or remote server failure */
	ARCA_ENOMEM = -7,     /* allocation failed */
	ARCA_EEXISTS = -8,    /* the target already exists and overwriting was not asked for */
	ARCA_ELOCKED = -9,    /* another process holds the store */
	ARCA_EVERSION = -10,  /* file or catalog made by a newer or unknown version */
	ARCA_EDENIED = -11,   /* permission or authentication refused */
	ARCA_EUNSUPPORTED = -12, /* a valid input arca does not handle (yet) */
	ARCA_EINTERRUPTED = -13, /* the user or a signal stopped the operation */
} arca_err;

#define ARCA_ERROR_MAX 1024

/* Sets this thread's message (printf format) and returns `code`, for use in `return`. */
arca_err arca_error_set(arca_err code, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Like arca_error_set with ": strerror(errnum)" appended; picks ARCA_ENOTFOUND for ENOENT,
 * ARCA_EDENIED for EACCES/EPERM, ARCA_ENOMEM for ENOMEM, ARCA_EIO otherwise. */
arca_err arca_error_errno(int errnum, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Prepends "<context>: " to this thread's message and returns `code` unchanged. */
arca_err arca_error_prefix(arca_err code, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* This thread's last message; "" when none was set. Borrowed until the next set. */
const char *arca_error_last(void);

/* The code that went with the last message (ARCA_OK when none). */
arca_err arca_error_last_code(void);

/* Forgets this thread's message. */
void arca_error_clear(void);

/* A short constant name for a code ("not found", "corrupt", ...). */
const char *arca_error_name(arca_err code);

/* Copying a message between threads: a worker saves into a struct its owner can read. */
typedef struct {
	arca_err code;
	char message[ARCA_ERROR_MAX];
} arca_error_saved;

void arca_error_save(arca_error_saved *out);
arca_err arca_error_restore(const arca_error_saved *saved);

#endif

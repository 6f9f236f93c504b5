/* SPDX-License-Identifier: Apache-2.0 */
/*
 * common/util.h — small helpers every module needs: time stamps and human sizes.
 */
#ifndef ARCA_COMMON_UTIL_H
#define ARCA_COMMON_UTIL_H

#include <stddef.h>
#include <stdint.h>

/* Current UTC time as "YYYY-MM-DDTHH:MM:SSZ" into buf (at least 21 bytes). */
void arca_time_now_iso(char *buf, size_t cap);

/* Monotonic seconds, for rates and timeouts. */
double arca_time_monotonic(void);

#endif

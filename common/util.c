/* SPDX-License-Identifier: Apache-2.0 */
/*
 * common/util.c — time stamps for the catalog and a monotonic clock for rates and waits.
 */
#include "common/util.h"

#include <time.h>

void arca_time_now_iso(char *buf, size_t cap)
{
	time_t now = time(NULL);
	struct tm tm;
	gmtime_r(&now, &tm);
	strftime(buf, cap, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

double arca_time_monotonic(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

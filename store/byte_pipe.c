/* SPDX-License-Identifier: Apache-2.0 */
/*
 * store/byte_pipe.c — the producer/worker hand-off of store/byte_pipe.h: a ring of buffers
 * guarded by one mutex, two condition variables (a slot freed, a slot filled).
 */
#include "store/byte_pipe.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
	unsigned char *data;
	size_t len;
	arca_byte_pipe_fn fn;
	void *ctx;
} slot;

struct arca_byte_pipe {
	pthread_t worker;
	pthread_mutex_t mu;
	pthread_cond_t freed, filled;
	slot *slots;
	size_t n, head, tail, used;   /* head: next to fill; tail: next to consume */
	int started, stop;
	arca_err err;
	arca_error_saved saved;       /* the worker's message, for the producer's thread */
};

static void *work(void *arg)
{
	arca_byte_pipe *p = arg;
	pthread_mutex_lock(&p->mu);
	for (;;) {
		while (!p->used && !p->stop)
			pthread_cond_wait(&p->filled, &p->mu);
		if (!p->used && p->stop)
			break;
		slot *s = &p->slots[p->tail];
		int skip = p->err < 0;
		pthread_mutex_unlock(&p->mu);
		arca_err err = skip ? ARCA_OK : s->fn(s->ctx, s->data, s->len);
		pthread_mutex_lock(&p->mu);
		if (err < 0 && p->err == ARCA_OK) {
			p->err = err;
			arca_error_save(&p->saved);
		}
		p->tail = (p->tail + 1) % p->n;
		p->used--;
		pthread_cond_broadcast(&p->freed);
	}
	pthread_mutex_unlock(&p->mu);
	return NULL;
}

arca_err arca_byte_pipe_new(arca_byte_pipe **out, size_t n_bufs, size_t buf_size)
{
	arca_byte_pipe *p = calloc(1, sizeof(*p));
	if (!p || !(p->slots = calloc(n_bufs, sizeof(*p->slots)))) {
		free(p);
		return arca_error_set(ARCA_ENOMEM, "out of memory");
	}
	p->n = n_bufs;
	for (size_t i = 0; i < n_bufs; i++)
		if (!(p->slots[i].data = malloc(buf_size))) {
			for (size_t k = 0; k < i; k++)
				free(p->slots[k].data);
			free(p->slots);
			free(p);
			return arca_error_set(ARCA_ENOMEM, "out of memory");
		}
	pthread_mutex_init(&p->mu, NULL);
	pthread_cond_init(&p->freed, NULL);
	pthread_cond_init(&p->filled, NULL);
	if (pthread_create(&p->worker, NULL, work, p) != 0) {
		arca_byte_pipe_free(p);
		return arca_error_set(ARCA_EIO, "cannot start a thread");
	}
	p->started = 1;
	*out = p;
	return ARCA_OK;
}

unsigned char *arca_byte_pipe_slot(arca_byte_pipe *p)
{
	pthread_mutex_lock(&p->mu);
	while (p->used == p->n)
		pthread_cond_wait(&p->freed, &p->mu);
	unsigned char *data = p->slots[p->head].data;
	pthread_mutex_unlock(&p->mu);
	return data;
}

arca_err arca_byte_pipe_push(arca_byte_pipe *p, size_t len, arca_byte_pipe_fn fn, void *ctx)
{
	pthread_mutex_lock(&p->mu);
	arca_err err = p->err;
	if (err == ARCA_OK) {
		slot *s = &p->slots[p->head];
		s->len = len;
		s->fn = fn;
		s->ctx = ctx;
		p->head = (p->head + 1) % p->n;
		p->used++;
		pthread_cond_signal(&p->filled);
	} else {
		arca_error_restore(&p->saved);
	}
	pthread_mutex_unlock(&p->mu);
	return err;
}

arca_err arca_byte_pipe_drain(arca_byte_pipe *p)
{
	pthread_mutex_lock(&p->mu);
	while (p->used)
		pthread_cond_wait(&p->freed, &p->mu);
	arca_err err = p->err;
	if (err < 0)
		arca_error_restore(&p->saved);
	p->err = ARCA_OK;
	pthread_mutex_unlock(&p->mu);
	return err;
}

void arca_byte_pipe_free(arca_byte_pipe *p)
{
	if (!p)
		return;
	if (p->started) {
		pthread_mutex_lock(&p->mu);
		p->stop = 1;
		pthread_cond_signal(&p->filled);
		pthread_mutex_unlock(&p->mu);
		pthread_join(p->worker, NULL);
	}
	pthread_mutex_destroy(&p->mu);
	pthread_cond_destroy(&p->freed);
	pthread_cond_destroy(&p->filled);
	for (size_t i = 0; i < p->n; i++)
		free(p->slots[i].data);
	free(p->slots);
	free(p);
}

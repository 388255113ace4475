/* evodiag watch's engine, between its files: collectors/sampler.c (the sampler
 * children, requests and answers), collectors/sampler_check.c (the background
 * check), collectors/sampler_events.c (statuses, events, rounds). */
#pragma once
#include "collectors/sampler.h"

/* Starts the background check's child (now: monotonic ms); its next run is due every_ms on. */
void watch_check_start(struct watch *w, uint64_t now);
/* Reads what the background check's child sent: its result (kept in chk.pending), or its end. */
void watch_check_take(struct watch *w);
/* The child is done (result taken, or failed: why): reap it, or leave it behind when
 * it is stuck in the kernel. */
void watch_check_done(struct watch *w, const char *why);

/*
 * A log-linear latency histogram (the HDR idea): exact below 1024 ns, then
 * 512 buckets per power of two, so a percentile is off by at most 0.2%,
 * in fixed memory (16 K counters) however long the run.
 */
#ifndef ECHO_HISTOGRAM_H
#define ECHO_HISTOGRAM_H

#include <stdint.h>

struct histogram {
    uint64_t *counts;
    uint64_t count, max;
};

int hist_init(struct histogram *h);                       /* -1: out of memory */
void hist_record(struct histogram *h, uint64_t ns);
double hist_percentile(const struct histogram *h, double p);  /* ns; 0 if empty */
void hist_free(struct histogram *h);

#endif

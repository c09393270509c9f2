/* The latency histogram of histogram.h. */
#include "histogram.h"

#include <math.h>
#include <stdlib.h>

#define SUB 10                        /* values below 2^SUB are exact */
#define HALF (1u << (SUB - 1))        /* buckets per power of two above that */
#define TOP 40                        /* up to 2^40 ns (18 minutes); longer is clamped */
#define BUCKETS ((TOP - SUB + 2) * HALF)

static unsigned bucket(uint64_t v)
{
    unsigned shift;
    if (v < (1u << SUB)) return (unsigned)v;
    if (v >= (uint64_t)1 << TOP) return BUCKETS - 1;
    shift = (unsigned)(63 - __builtin_clzll(v)) - SUB + 1;
    return shift * HALF + (unsigned)(v >> shift);   /* v >> shift is in [HALF, 2 HALF) */
}

/* The middle of a bucket's range. */
static double value(unsigned b)
{
    unsigned shift;
    if (b < (1u << SUB)) return b;
    shift = b / HALF - 1;
    return (double)((uint64_t)(b - shift * HALF) << shift) + (double)((uint64_t)1 << shift) / 2;
}

int hist_init(struct histogram *h)
{
    h->counts = calloc(BUCKETS, sizeof *h->counts);
    h->count = h->max = 0;
    return h->counts ? 0 : -1;
}

void hist_record(struct histogram *h, uint64_t ns)
{
    h->counts[bucket(ns)]++;
    h->count++;
    if (ns > h->max) h->max = ns;
}

double hist_percentile(const struct histogram *h, double p)
{
    uint64_t rank, seen = 0;
    if (!h->count) return 0;
    rank = (uint64_t)ceil(p / 100 * (double)h->count);   /* the smallest value with p% at or below */
    if (rank < 1) rank = 1;
    for (unsigned b = 0; b < BUCKETS; b++) {
        seen += h->counts[b];
        if (seen >= rank) return value(b) < (double)h->max ? value(b) : (double)h->max;
    }
    return (double)h->max;
}

void hist_free(struct histogram *h)
{
    free(h->counts);
    h->counts = NULL;
}

/*
 * sim_rng.c — the simulator's only source of randomness.
 *
 * xoshiro256** seeded through splitmix64 (Blackman and Vigna): fast, good
 * enough for scheduling, and the same sequence on every machine, so a seed
 * names a run. Each node's engine gets its own generator derived from the
 * run's seed, so adding an event at one node does not shift the jitter of
 * every other.
 */
#include "sim.h"

#include <string.h>

static uint64_t splitmix(uint64_t *x)
{
    uint64_t z = (*x += UINT64_C(0x9E3779B97F4A7C15));
    z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
    return z ^ (z >> 31);
}

void sim_rng_seed(struct sim_rng *r, uint64_t seed)
{
    uint64_t x = seed;
    for (int i = 0; i < 4; i++)
        r->s[i] = splitmix(&x);
}

static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

uint64_t sim_rng_next(struct sim_rng *r)
{
    uint64_t *s = r->s;
    uint64_t out = rotl(s[1] * 5, 7) * 9, t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return out;
}

uint64_t sim_rng_below(struct sim_rng *r, uint64_t n)
{
    /* rejection keeps it uniform */
    uint64_t lim = UINT64_MAX - UINT64_MAX % n, v;
    do
        v = sim_rng_next(r);
    while (v >= lim);
    return v % n;
}

double sim_rng_unit(struct sim_rng *r) { return (double)(sim_rng_next(r) >> 11) * 0x1.0p-53; }

void sim_rng_bytes(struct sim_rng *r, void *out, size_t n)
{
    uint8_t *p = out;
    while (n > 0) {
        uint64_t v = sim_rng_next(r);
        size_t k = n < 8 ? n : 8;
        memcpy(p, &v, k);
        p += k;
        n -= k;
    }
}

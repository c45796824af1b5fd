/* The CPU's single-precision FMA peak, one thread: 12 independent chains of vector FMAs, so the
 * FMA units, not the 4-cycle latency, set the pace. It is the ceiling for a step's matrix
 * products (docs/performance.md). Build and run (two copies at once for both cores):
 *   gcc -O2 -mavx2 -mfma bench/fma_peak.c -o /tmp/fma256
 *   gcc -O2 -mavx512f -DZMM bench/fma_peak.c -o /tmp/fma512
 *   /tmp/fma256 200000000 0.1; /tmp/fma256 200000000 0.1 & /tmp/fma256 200000000 0.1; wait
 * The second argument only gives each chain its own start, so that the compiler cannot merge
 * them into one. */
#include <immintrin.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#ifdef ZMM
typedef __m512 vec;
#define SET(x) _mm512_set1_ps(x)
#define FMA(a, c, b) _mm512_fmadd_ps(a, c, b)
#define ADD(x, y) _mm512_add_ps(x, y)
#define STORE(p, v) _mm512_storeu_ps(p, v)
#define LANES 16
#else
typedef __m256 vec;
#define SET(x) _mm256_set1_ps(x)
#define FMA(a, c, b) _mm256_fmadd_ps(a, c, b)
#define ADD(x, y) _mm256_add_ps(x, y)
#define STORE(p, v) _mm256_storeu_ps(p, v)
#define LANES 8
#endif
#define CHAINS 12

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

int main(int argc, char **argv) {
    if (argc != 3) {
        fprintf(stderr, "usage: %s ITERATIONS START\n", argv[0]);
        return 2;
    }
    long iters = atol(argv[1]);
    float start = (float)atof(argv[2]);
    vec a = SET(1.0000001f), b = SET(0.9999999f);
    vec c0 = SET(start * 1), c1 = SET(start * 2), c2 = SET(start * 3), c3 = SET(start * 4);
    vec c4 = SET(start * 5), c5 = SET(start * 6), c6 = SET(start * 7), c7 = SET(start * 8);
    vec c8 = SET(start * 9), c9 = SET(start * 10), c10 = SET(start * 11), c11 = SET(start * 12);
    double t = now();
    for (long i = 0; i < iters; i++) {
        c0 = FMA(a, c0, b); c1 = FMA(a, c1, b); c2 = FMA(a, c2, b); c3 = FMA(a, c3, b);
        c4 = FMA(a, c4, b); c5 = FMA(a, c5, b); c6 = FMA(a, c6, b); c7 = FMA(a, c7, b);
        c8 = FMA(a, c8, b); c9 = FMA(a, c9, b); c10 = FMA(a, c10, b); c11 = FMA(a, c11, b);
    }
    t = now() - t;
    /* Print a sum of the chains so that none of them is dead code. */
    vec s = ADD(ADD(ADD(c0, c1), ADD(c2, c3)), ADD(ADD(ADD(c4, c5), ADD(c6, c7)), ADD(ADD(c8, c9), ADD(c10, c11))));
    float out[LANES];
    STORE(out, s);
    printf("%.1f GFLOP/s (checksum %g)\n", (double)CHAINS * LANES * 2 * iters / t / 1e9, out[0]);
    return 0;
}

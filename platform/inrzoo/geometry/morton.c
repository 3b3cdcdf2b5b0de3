/* Morton (Z-order) permutation of query points, for blocks.spatial_order: the same 30-bit keys as
 * its numpy version (10 bits per axis over the points' bounding cube, the same float64 arithmetic)
 * and the same stable order, so either gives identical permutations; this one is several times
 * faster (bounds and keys in two passes, then a least-significant-digit radix sort of three 10-bit
 * digits over keys packed with their index). */
#include <stdint.h>
#include <stdlib.h>

#include "nearest.h"

#define BITS 10
#define CELLS ((1u << BITS) - 1)

/* The low 10 bits of x, spread two bits apart (bit k moves to bit 3k). */
static uint64_t spread(uint32_t x) {
    x = (x | (x << 16)) & 0x030000FFu;
    x = (x | (x << 8)) & 0x0300F00Fu;
    x = (x | (x << 4)) & 0x030C30C3u;
    return (x | (x << 2)) & 0x09249249u;
}

static inline double coordinate(const void *points, int is_double, int64_t i) {
    return is_double ? ((const double *)points)[i] : (double)((const float *)points)[i];
}

/* order[i] = the i-th point along the curve; points: count x 3, float64 when is_double, else
 * float32, count < 2^32. Returns 0 when out of memory. */
int nearest_morton_order(const void *points, int is_double, int64_t count, int64_t *order) {
    if (count <= 0) return 1;
    double low[3], high[3];
    for (int a = 0; a < 3; a++) low[a] = high[a] = coordinate(points, is_double, a);
    for (int64_t i = 1; i < count; i++) {
        for (int a = 0; a < 3; a++) {
            double v = coordinate(points, is_double, 3 * i + a);
            low[a] = v < low[a] ? v : low[a];
            high[a] = v > high[a] ? v : high[a];
        }
    }
    double size = 0; /* as numpy: the largest side, 1 for a single spot */
    for (int a = 0; a < 3; a++) size = high[a] - low[a] > size ? high[a] - low[a] : size;
    double factor = CELLS / (size > 0 ? size : 1.0);
    /* (key << 32 | index): sorting by the key's digits keeps equal keys in index order */
    uint64_t *buffer = malloc(sizeof(uint64_t) * 2 * (size_t)count);
    if (!buffer) return 0;
    uint64_t *packed = buffer, *spare = buffer + count;
    int64_t histogram[3][1u << BITS] = {{0}};
    for (int64_t i = 0; i < count; i++) {
        uint64_t key = 0;
        for (int a = 0; a < 3; a++) {
            double c = (coordinate(points, is_double, 3 * i + a) - low[a]) * factor; /* numpy's clip, then truncation */
            c = c >= 0 ? (c > CELLS ? CELLS : c) : 0; /* NaN (callers reject it) to 0, never an undefined cast */
            key |= spread((uint32_t)c) << a;
        }
        for (int pass = 0; pass < 3; pass++) histogram[pass][(key >> (BITS * pass)) & CELLS]++;
        packed[i] = key << 32 | (uint64_t)i;
    }
    for (int pass = 0; pass < 3; pass++) {
        int64_t sum = 0, *start = histogram[pass];
        for (uint32_t b = 0; b <= CELLS; b++) {
            int64_t n = start[b];
            start[b] = sum;
            sum += n;
        }
        for (int64_t i = 0; i < count; i++) spare[start[(packed[i] >> (32 + BITS * pass)) & CELLS]++] = packed[i];
        uint64_t *swap = packed;
        packed = spare;
        spare = swap;
    }
    for (int64_t i = 0; i < count; i++) order[i] = (int64_t)(packed[i] & 0xFFFFFFFFu);
    free(buffer);
    return 1;
}

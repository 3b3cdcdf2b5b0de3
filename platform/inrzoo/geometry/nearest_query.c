/* Querying the closest-point tree (nearest.h), and the sign-sharing links of distance.py. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "nearest.h"

/* Each popped wide node pushes at most WIDTH - 1 more entries than it takes, and the tree is at
 * most MAX_DEPTH (60) levels deep: 3 * 60 + 1 entries. */
#define STACK 256

/* Closest point of segment [a, b] to p (for degenerate triangles). */
static double segment_closest(const double *p, const double *a, const double *b, double *out) {
    double ab[3] = {b[0] - a[0], b[1] - a[1], b[2] - a[2]}, ap[3] = {p[0] - a[0], p[1] - a[1], p[2] - a[2]};
    double len2 = dot3(ab, ab), t = len2 > 0 ? dot3(ap, ab) / len2 : 0.0;
    t = t < 0 ? 0 : (t > 1 ? 1 : t);
    double d2 = 0;
    for (int k = 0; k < 3; k++) { out[k] = a[k] + t * ab[k]; d2 += (p[k] - out[k]) * (p[k] - out[k]); }
    return d2;
}

/* Squared distance from p to triangle (a, b, c) and the closest point (Ericson, Real-Time
 * Collision Detection 5.1.5: Voronoi regions of vertices, then edges, then the face). */
static double triangle_closest(const double *p, const double *t, double *out) {
    const double *a = t, *b = t + 3, *c = t + 6;
    double ab[3], ac[3], ap[3], bp[3], cp[3];
    for (int k = 0; k < 3; k++) {
        ab[k] = b[k] - a[k]; ac[k] = c[k] - a[k];
        ap[k] = p[k] - a[k]; bp[k] = p[k] - b[k]; cp[k] = p[k] - c[k];
    }
    double d1 = dot3(ab, ap), d2 = dot3(ac, ap), d3 = dot3(ab, bp), d4 = dot3(ac, bp);
    double d5 = dot3(ab, cp), d6 = dot3(ac, cp);
    double q[3];
    if (d1 <= 0 && d2 <= 0) memcpy(q, a, sizeof q);
    else if (d3 >= 0 && d4 <= d3) memcpy(q, b, sizeof q);
    else if (d6 >= 0 && d5 <= d6) memcpy(q, c, sizeof q);
    else {
        double vc = d1 * d4 - d3 * d2, vb = d5 * d2 - d1 * d6, va = d3 * d6 - d5 * d4;
        if (vc <= 0 && d1 >= 0 && d3 <= 0 && d1 - d3 > 0) { /* > 0: not a collapsed edge */
            double v = d1 / (d1 - d3);
            for (int k = 0; k < 3; k++) q[k] = a[k] + v * ab[k];
        } else if (vb <= 0 && d2 >= 0 && d6 <= 0 && d2 - d6 > 0) {
            double w = d2 / (d2 - d6);
            for (int k = 0; k < 3; k++) q[k] = a[k] + w * ac[k];
        } else if (va <= 0 && d4 - d3 >= 0 && d5 - d6 >= 0 && (d4 - d3) + (d5 - d6) > 0) {
            double w = (d4 - d3) / ((d4 - d3) + (d5 - d6));
            for (int k = 0; k < 3; k++) q[k] = b[k] + w * (c[k] - b[k]);
        } else if (va + vb + vc > 0) {
            double inv = 1.0 / (va + vb + vc), v = vb * inv, w = vc * inv;
            for (int k = 0; k < 3; k++) q[k] = a[k] + v * ab[k] + w * ac[k];
        } else { /* zero-area triangle: the nearest of its three edges */
            double s[3], best = segment_closest(p, a, b, q);
            double d = segment_closest(p, b, c, s);
            if (d < best) { best = d; memcpy(q, s, sizeof q); }
            d = segment_closest(p, c, a, s);
            if (d < best) { best = d; memcpy(q, s, sizeof q); }
        }
    }
    memcpy(out, q, sizeof q);
    return (p[0] - q[0]) * (p[0] - q[0]) + (p[1] - q[1]) * (p[1] - q[1]) + (p[2] - q[2]) * (p[2] - q[2]);
}

/* LANES floats in one value (GCC/Clang vector extension): one SSE or NEON register, so a wide
 * node's WIDTH = 4 bounds take one step on every x86-64 and ARM64 node, with no -march. max and
 * clamping are branch-free selects. */
#define LANES 4
typedef float Lanes __attribute__((vector_size(4 * LANES)));
typedef int32_t LaneMask __attribute__((vector_size(4 * LANES)));

static inline Lanes lanes_max(Lanes a, Lanes b) { /* b where a is NaN */
    LaneMask take_a = a > b;
    return (Lanes)((take_a & (LaneMask)a) | (~take_a & (LaneMask)b));
}

static inline Lanes lanes_load(const float *x) {
    Lanes v;
    memcpy(&v, x, sizeof v);
    return v;
}

static inline Lanes lanes_sqrt(Lanes x) {
    Lanes out;
    for (int k = 0; k < LANES; k++) out[k] = sqrtf(x[k]); /* one sqrtps with -fno-math-errno */
    return out;
}

/* Float bounds are exact lower bounds once each gap is lowered by ALLOWANCE * M, M the larger of
 * the tree's and the query's largest |coordinate| (my bound on the float evaluation's error: the
 * query's rounding to float and the roundings of the cross product, the norm and the differences
 * add up to under 45 units of 2^-24 M; 64 leaves room), and the squared sum by SHRINK (the
 * roundings of the squares and sums, and the stored axis' length, 1 within a few units of 2^-24).
 * Beyond FLOAT_SAFE the squares could overflow float32: such queries test every triangle. */
#define ALLOWANCE (64.0 / 16777216.0)
#define SHRINK (1.0f - 16.0f / 16777216.0f)
#define FLOAT_SAFE 1e18

/* Lower bounds on the squared distance from p (as float, pf) to each child's triangles: the
 * larger of its box's and its cylinder's, all WIDTH children at once. */
static inline void child_bounds2(const Wide *w, const float *pf, float allowance, double *bound) {
    const Lanes zero = {0}, px = pf[0] - zero, py = pf[1] - zero, pz = pf[2] - zero;
    const Lanes p[3] = {px, py, pz};
    Lanes box = zero;
    for (int a = 0; a < 3; a++) {
        Lanes d = lanes_max(lanes_max(lanes_load(w->lo[a]) - p[a], p[a] - lanes_load(w->hi[a])) - allowance, zero);
        box += d * d;
    }
    Lanes dx = px - lanes_load(w->c[0]), dy = py - lanes_load(w->c[1]), dz = pz - lanes_load(w->c[2]);
    Lanes n0 = lanes_load(w->n[0]), n1 = lanes_load(w->n[1]), n2 = lanes_load(w->n[2]);
    Lanes h = n0 * dx + n1 * dy + n2 * dz;
    /* distance from the axis as |n x dx| (no cancellation near the axis) */
    Lanes cx = n1 * dz - n2 * dy, cy = n2 * dx - n0 * dz, cz = n0 * dy - n1 * dx;
    Lanes lateral = lanes_sqrt(cx * cx + cy * cy + cz * cz);
    Lanes radial = lanes_max(lateral - lanes_load(w->r) - allowance, zero);
    Lanes axial = lanes_max(lanes_max(lanes_load(w->dlo) - h, h - lanes_load(w->dhi)) - allowance, zero);
    Lanes out = lanes_max(radial * radial + axial * axial, box) * SHRINK;
    for (int k = 0; k < WIDTH; k++) bound[k] = out[k];
}

/* For each of `count` points (3 doubles each): squared distance, closest point (may be NULL)
 * and original face index (may be NULL). Points in spatial order are fastest. */
void nearest_query(const void *handle, const double *points, int64_t count, double *squared,
                   double *closest, int64_t *face) {
    const Tree *tree = handle;
    int32_t stack_child[STACK], stack_count[STACK];
    double stack_d2[STACK];
    int64_t hint = 0; /* leaf-order triangle closest to the previous point */
    for (int64_t i = 0; i < count; i++) {
        const double *p = points + 3 * i;
        double q[3], best_q[3];
        double best = triangle_closest(p, tree->tri + 9 * hint, best_q);
        int64_t best_tri = hint;
        double extent = fmax(tree->scale, fmax(fabs(p[0]), fmax(fabs(p[1]), fabs(p[2]))));
        const float pf[3] = {(float)p[0], (float)p[1], (float)p[2]}, allowance = (float)(ALLOWANCE * extent);
        int top = 0;
        stack_child[top] = 0; /* the root; beyond FLOAT_SAFE, every triangle as one leaf */
        stack_count[top] = extent <= FLOAT_SAFE ? 0 : (int32_t)tree->tri_count;
        stack_d2[top++] = 0;
        while (top > 0) {
            top--;
            if (stack_d2[top] >= best) continue;
            int32_t child = stack_child[top], n = stack_count[top];
            if (n > 0) {
                for (int32_t t = child; t < child + n; t++) {
                    double d2 = triangle_closest(p, tree->tri + 9 * (int64_t)t, q);
                    if (d2 < best) { best = d2; best_tri = t; memcpy(best_q, q, sizeof q); }
                }
                continue;
            }
            const Wide *w = &tree->wide[child];
            double bound[WIDTH];
            child_bounds2(w, pf, allowance, bound);
            int order[WIDTH], m = 0;
            for (int k = 0; k < WIDTH; k++) { /* survivors, sorted by bound (insertion) */
                if (!(bound[k] < best)) continue;
                int j = m++;
                while (j > 0 && bound[order[j - 1]] < bound[k]) { order[j] = order[j - 1]; j--; }
                order[j] = k; /* descending: the nearest is pushed last, popped first */
            }
            for (int j = 0; j < m; j++) {
                int k = order[j];
                stack_child[top] = w->child[k];
                stack_count[top] = w->count[k];
                stack_d2[top++] = bound[k];
            }
        }
        hint = best_tri;
        squared[i] = best;
        if (closest) memcpy(closest + 3 * i, best_q, sizeof best_q);
        if (face) face[i] = tree->face_id[best_tri];
    }
}

/* Sign sharing on closed meshes: the open ball of radius d around a point with distance d holds
 * no surface, so two points whose balls overlap lie in one surface-free piece of space (the union
 * of the balls) and have the same winding number. Walking the points in order, a point whose ball
 * overlaps that of one of the RECENT latest anchors takes that anchor; any other point becomes a
 * new anchor. anchor[i] = i marks an anchor. Every radius shrinks by `relative` of itself and by
 * `slack` (a length): room for the distances' rounding (float32 distances need relative >= 2^-24).
 * Overlap rather than one ball holding the other's center: 3.9% anchors instead of 5.6% on
 * bounding-box queries of the 208K-face armadillo (measured). */
#define RECENT 8 /* measured on near-surface queries (centers held): 57% anchors with 1, 46% with 8, 44% with 16 */

int64_t nearest_link_anchors(const double *points, const double *distance, int64_t count, double relative,
                             double slack, int64_t *anchor) {
    int64_t recent[RECENT], anchors = 0; /* a ring: the latest anchor at head - 1 */
    int held = 0, head = 0;
    for (int64_t i = 0; i < count; i++) {
        const double *p = points + 3 * i;
        int64_t found = -1;
        for (int back = 1; back <= held && found < 0; back++) {
            int64_t candidate = recent[(head - back + RECENT) % RECENT];
            const double *a = points + 3 * candidate;
            double r = (distance[i] + distance[candidate]) * (1.0 - relative) - 2 * slack; /* the balls overlap */
            double d2 = (p[0] - a[0]) * (p[0] - a[0]) + (p[1] - a[1]) * (p[1] - a[1]) + (p[2] - a[2]) * (p[2] - a[2]);
            if (r > 0 && isfinite(r) && d2 < r * r) found = candidate;
        }
        if (found >= 0) { anchor[i] = found; continue; }
        anchor[i] = i;
        recent[head] = i;
        head = (head + 1) % RECENT;
        held = held < RECENT ? held + 1 : RECENT;
        anchors++;
    }
    return anchors;
}

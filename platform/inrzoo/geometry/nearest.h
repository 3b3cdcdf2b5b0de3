/* Exact closest points on a triangle mesh: a bounding-volume hierarchy over the triangles
 * (binned surface-area heuristic, collapsed into 4-wide nodes), queried point by point with a
 * depth-first, nearest-child-first traversal. Plain C with no Python API: built by setup.py,
 * loaded through ctypes by nearest.py. nearest_build.c builds the tree, nearest_query.c queries it,
 * morton.c puts the queries in spatial order.
 *
 * Why not libigl's AABB: its queries start every point from an infinite bound. Queries here
 * arrive in spatial (Morton) order, so the previous point's closest triangle gives each point a
 * tight upper bound before the traversal starts, and most of the tree is pruned at once; each
 * node bounds its triangles by a box and by a cylinder around their mean normal, and a wide
 * node's four bounds are computed together in vector registers.
 * Node bounds are float32 with a rounding allowance that keeps each a true lower bound, so
 * pruning stays exact; triangles and all distances are float64.
 */
#ifndef INRZOO_NEAREST_H
#define INRZOO_NEAREST_H

#include <stdint.h>

/* A solid cylinder holding a node's triangles: axis n (unit, their mean normal), center c,
 * radius r around the axis, extent [lo, hi] along it, so a nearly flat patch gets a thin slab.
 * Its distance bounds the triangles' from below much more tightly than a box when the query is
 * far from a gently curved surface, where boxes of a whole region touch the query's ball of
 * radius "best so far". (Per triangle it did not pay for itself: measured, no faster.) */
typedef struct { double c[3], n[3], r, lo, hi; } Disk;

/* The query tree: the binary SAH tree collapsed into nodes of up to WIDTH children, whose boxes
 * and cylinders are stored lane by lane in float32, so that one node's WIDTH bounds are computed
 * together in one vector register and a node is half the memory of a float64 one. The float
 * bounds are made exact lower bounds at query time by a per-query rounding allowance (see
 * nearest_query.c). A child is a wide node (count 0), a run of `count` triangles (a leaf), or an
 * empty slot (count -1, infinite box). */
#define WIDTH 4
typedef struct {
    float lo[3][WIDTH], hi[3][WIDTH];
    float c[3][WIDTH], n[3][WIDTH], r[WIDTH], dlo[WIDTH], dhi[WIDTH];
    int32_t child[WIDTH]; /* wide node index, or first triangle of a leaf */
    int32_t count[WIDTH];
} Wide;

typedef struct {
    Wide *wide;
    double *tri;      /* 9 doubles per triangle (a, b, c), in leaf order */
    int64_t *face_id; /* original face index of each triangle in leaf order */
    int64_t tri_count;
    double scale;     /* largest |coordinate| of the triangles: sizes the float bounds' rounding */
} Tree;

static inline double dot3(const double *u, const double *v) { return u[0] * v[0] + u[1] * v[1] + u[2] * v[2]; }

void *nearest_build(const double *vertices, const int64_t *faces, int64_t face_count);
void nearest_free(void *handle);
void nearest_query(const void *handle, const double *points, int64_t count, double *squared,
                   double *closest, int64_t *face);
int nearest_morton_order(const void *points, int is_double, int64_t count, int64_t *order);
int64_t nearest_link_anchors(const double *points, const double *distance, int64_t count, double relative,
                             double slack, int64_t *anchor);

#endif

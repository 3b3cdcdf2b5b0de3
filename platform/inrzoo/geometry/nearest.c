/* Exact closest points on a triangle mesh: a bounding-volume hierarchy over the triangles
 * (binned surface-area heuristic), queried point by point with a depth-first, nearest-child-first
 * traversal. Plain C with no Python API: loaded through ctypes by nearest.py.
 *
 * Why not libigl's AABB: its queries start every point from an infinite bound. Queries here
 * arrive in spatial (Morton) order, so the previous point's closest triangle gives each point a
 * tight upper bound before the traversal starts, and most of the tree is pruned at once.
 * Boxes are float32 rounded outward (a box distance is then never more than the true one, so
 * pruning stays exact); triangles and all distances are float64.
 */
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define LEAF_SIZE 4     /* triangles below which a node is always a leaf */
#define BINS 16         /* SAH bins per split */
#define MAX_DEPTH 60    /* deeper nodes become leaves (degenerate inputs); the stack fits 2x that */
#define STACK 128

typedef struct {
    float lo[3], hi[3];
    int32_t start; /* leaf: first triangle; inner: index of the right child (left is this + 1) */
    int32_t count; /* leaf: number of triangles; inner: 0 */
} Node;

/* A solid cylinder holding a set of triangles: axis n (unit), center c, radius r around the axis,
 * extent [lo, hi] along it. For a triangle it is the disk of its plane around its centroid
 * (lo = hi = 0); for a node, n is its triangles' mean normal, so a nearly flat patch gets a thin
 * slab. Its distance bounds the triangles' from below much more tightly than a box when the
 * query is far from a gently curved surface, where boxes of a whole region touch the query's
 * ball of radius "best so far". */
typedef struct { double c[3], n[3], r, lo, hi; } Disk;

typedef struct {
    Node *nodes;
    Disk *node_disk;
    int32_t node_count;
    double *tri;      /* 9 doubles per triangle (a, b, c), in leaf order */
    Disk *tri_disk;
    int64_t *face_id; /* original face index of each triangle in leaf order */
} Tree;

typedef struct { double lo[3], hi[3]; } Box;

static inline double dot3(const double *u, const double *v) { return u[0] * v[0] + u[1] * v[1] + u[2] * v[2]; }

static void box_empty(Box *b) {
    for (int k = 0; k < 3; k++) { b->lo[k] = DBL_MAX; b->hi[k] = -DBL_MAX; }
}

static void box_add(Box *b, const double *p) {
    for (int k = 0; k < 3; k++) {
        if (p[k] < b->lo[k]) b->lo[k] = p[k];
        if (p[k] > b->hi[k]) b->hi[k] = p[k];
    }
}

static void box_merge(Box *b, const Box *o) {
    for (int k = 0; k < 3; k++) {
        if (o->lo[k] < b->lo[k]) b->lo[k] = o->lo[k];
        if (o->hi[k] > b->hi[k]) b->hi[k] = o->hi[k];
    }
}

static double box_area(const Box *b) {
    double d[3];
    for (int k = 0; k < 3; k++) d[k] = b->hi[k] > b->lo[k] ? b->hi[k] - b->lo[k] : 0.0;
    return d[0] * d[1] + d[1] * d[2] + d[2] * d[0];
}

typedef struct {
    const double *tri_src; /* 9 doubles per face, original order */
    Box *tri_box;
    double *centroid;      /* 3 per face */
    int64_t *order;        /* permutation being partitioned */
    Node *nodes;
    int64_t *node_begin, *node_end; /* each node's triangles: a contiguous run of the final order */
    int32_t node_count, node_capacity;
} Builder;

static void set_node_box(Node *n, const Box *b) {
    for (int k = 0; k < 3; k++) { /* outward rounding keeps the float box a superset */
        n->lo[k] = nextafterf((float)b->lo[k], -INFINITY);
        n->hi[k] = nextafterf((float)b->hi[k], INFINITY);
    }
}

/* Chooses the SAH split of order[begin, end); returns the split position or -1 for a leaf. */
static int64_t sah_split(Builder *bd, int64_t begin, int64_t end, const Box *bounds) {
    int64_t count = end - begin;
    Box cbox;
    box_empty(&cbox);
    for (int64_t i = begin; i < end; i++) box_add(&cbox, bd->centroid + 3 * bd->order[i]);
    double best_cost = (double)count * box_area(bounds);
    int best_axis = -1, best_bin = 0;
    for (int axis = 0; axis < 3; axis++) {
        double extent = cbox.hi[axis] - cbox.lo[axis];
        if (!(extent > 0)) continue;
        Box bin_box[BINS];
        int64_t bin_count[BINS] = {0};
        for (int b = 0; b < BINS; b++) box_empty(&bin_box[b]);
        for (int64_t i = begin; i < end; i++) {
            int64_t f = bd->order[i];
            int b = (int)((bd->centroid[3 * f + axis] - cbox.lo[axis]) / extent * BINS);
            b = b < 0 ? 0 : (b >= BINS ? BINS - 1 : b);
            bin_count[b]++;
            box_merge(&bin_box[b], &bd->tri_box[f]);
        }
        double right_area[BINS];
        int64_t right_count[BINS];
        Box acc;
        box_empty(&acc);
        int64_t n = 0;
        for (int b = BINS - 1; b > 0; b--) {
            box_merge(&acc, &bin_box[b]);
            n += bin_count[b];
            right_area[b] = box_area(&acc);
            right_count[b] = n;
        }
        box_empty(&acc);
        n = 0;
        for (int b = 0; b < BINS - 1; b++) {
            box_merge(&acc, &bin_box[b]);
            n += bin_count[b];
            if (n == 0 || right_count[b + 1] == 0) continue;
            double cost = (double)n * box_area(&acc) + (double)right_count[b + 1] * right_area[b + 1];
            if (cost < best_cost) { best_cost = cost; best_axis = axis; best_bin = b; }
        }
    }
    if (best_axis < 0) return count > LEAF_SIZE ? begin + count / 2 : -1; /* coincident centroids */
    double extent = cbox.hi[best_axis] - cbox.lo[best_axis];
    int64_t i = begin, j = end - 1;
    while (i <= j) { /* partition: bins <= best_bin to the left */
        int64_t f = bd->order[i];
        int b = (int)((bd->centroid[3 * f + best_axis] - cbox.lo[best_axis]) / extent * BINS);
        b = b < 0 ? 0 : (b >= BINS ? BINS - 1 : b);
        if (b <= best_bin) i++;
        else { int64_t t = bd->order[i]; bd->order[i] = bd->order[j]; bd->order[j] = t; j--; }
    }
    return i;
}

static int32_t new_node(Builder *bd) {
    if (bd->node_count == bd->node_capacity) {
        bd->node_capacity *= 2;
        bd->nodes = realloc(bd->nodes, sizeof(Node) * (size_t)bd->node_capacity);
        bd->node_begin = realloc(bd->node_begin, sizeof(int64_t) * (size_t)bd->node_capacity);
        bd->node_end = realloc(bd->node_end, sizeof(int64_t) * (size_t)bd->node_capacity);
    }
    return bd->node_count++;
}

static void build_node(Builder *bd, int32_t index, int64_t begin, int64_t end, int depth) {
    Box bounds;
    box_empty(&bounds);
    for (int64_t i = begin; i < end; i++) box_merge(&bounds, &bd->tri_box[bd->order[i]]);
    set_node_box(&bd->nodes[index], &bounds);
    bd->node_begin[index] = begin;
    bd->node_end[index] = end;
    int64_t mid = (end - begin <= LEAF_SIZE || depth >= MAX_DEPTH) ? -1 : sah_split(bd, begin, end, &bounds);
    if (mid < 0) {
        bd->nodes[index].start = (int32_t)begin;
        bd->nodes[index].count = (int32_t)(end - begin);
        return;
    }
    int32_t left = new_node(bd);
    build_node(bd, left, begin, mid, depth + 1);
    int32_t right = new_node(bd);
    build_node(bd, right, mid, end, depth + 1);
    bd->nodes[index].start = right; /* nodes may have moved in realloc: index, not pointer */
    bd->nodes[index].count = 0;
}

/* The cylinder of triangles [begin, end) (9 doubles each): axis along their area-weighted normal
 * (any unit axis is valid; a closed or folded set only gets a loose one), centered on their
 * corners' bounding-box center. Radius and extent are rounded outward. */
static void fit_disk(const double *tri, int64_t begin, int64_t end, Disk *d) {
    double n[3] = {0, 0, 0};
    Box box;
    box_empty(&box);
    for (int64_t i = begin; i < end; i++) {
        const double *t = tri + 9 * i;
        double u[3], v[3];
        for (int k = 0; k < 3; k++) { u[k] = t[3 + k] - t[k]; v[k] = t[6 + k] - t[k]; }
        n[0] += u[1] * v[2] - u[2] * v[1];
        n[1] += u[2] * v[0] - u[0] * v[2];
        n[2] += u[0] * v[1] - u[1] * v[0];
        for (int c = 0; c < 3; c++) box_add(&box, t + 3 * c);
    }
    double length = sqrt(dot3(n, n));
    for (int k = 0; k < 3; k++) {
        d->n[k] = length > 0 ? n[k] / length : (k == 2);
        d->c[k] = 0.5 * (box.lo[k] + box.hi[k]);
    }
    double r2 = 0, lo = DBL_MAX, hi = -DBL_MAX, scale = 0;
    for (int64_t i = begin; i < end; i++) {
        for (int c = 0; c < 3; c++) {
            const double *v = tri + 9 * i + 3 * c;
            double dx[3] = {v[0] - d->c[0], v[1] - d->c[1], v[2] - d->c[2]};
            double h = dot3(d->n, dx), lateral = dot3(dx, dx) - h * h;
            r2 = lateral > r2 ? lateral : r2;
            lo = h < lo ? h : lo;
            hi = h > hi ? h : hi;
            scale = dot3(dx, dx) > scale ? dot3(dx, dx) : scale;
        }
    }
    double slack = 1e-9 * sqrt(scale) + 1e-300; /* covers the rounding of h and of the lateral distance */
    d->r = sqrt(r2) + slack;
    d->lo = lo - slack;
    d->hi = hi + slack;
}

/* Squared distance from p to the cylinder (a lower bound on the distance to what it holds). */
static inline double disk_distance2(const Disk *d, const double *p) {
    double dx = p[0] - d->c[0], dy = p[1] - d->c[1], dz = p[2] - d->c[2];
    double h = d->n[0] * dx + d->n[1] * dy + d->n[2] * dz;
    double lateral = dx * dx + dy * dy + dz * dz - h * h;
    double radial = (lateral > 0 ? sqrt(lateral) : 0) - d->r;
    double axial = h < d->lo ? d->lo - h : (h > d->hi ? h - d->hi : 0);
    radial = radial > 0 ? radial : 0;
    return radial * radial + axial * axial;
}

void *nearest_build(const double *vertices, const int64_t *faces, int64_t face_count) {
    Tree *tree = calloc(1, sizeof(Tree));
    Builder bd = {0};
    double *tri_src = malloc(sizeof(double) * 9 * (size_t)face_count);
    bd.tri_box = malloc(sizeof(Box) * (size_t)face_count);
    bd.centroid = malloc(sizeof(double) * 3 * (size_t)face_count);
    bd.order = malloc(sizeof(int64_t) * (size_t)face_count);
    for (int64_t f = 0; f < face_count; f++) {
        box_empty(&bd.tri_box[f]);
        for (int c = 0; c < 3; c++) {
            const double *v = vertices + 3 * faces[3 * f + c];
            memcpy(tri_src + 9 * f + 3 * c, v, 3 * sizeof(double));
            box_add(&bd.tri_box[f], v);
        }
        for (int k = 0; k < 3; k++) bd.centroid[3 * f + k] = 0.5 * (bd.tri_box[f].lo[k] + bd.tri_box[f].hi[k]);
        bd.order[f] = f;
    }
    bd.tri_src = tri_src;
    bd.node_capacity = 1024;
    bd.nodes = malloc(sizeof(Node) * (size_t)bd.node_capacity);
    bd.node_begin = malloc(sizeof(int64_t) * (size_t)bd.node_capacity);
    bd.node_end = malloc(sizeof(int64_t) * (size_t)bd.node_capacity);
    build_node(&bd, new_node(&bd), 0, face_count, 0);
    tree->nodes = bd.nodes;
    tree->node_count = bd.node_count;
    tree->tri = malloc(sizeof(double) * 9 * (size_t)face_count);
    tree->face_id = bd.order;
    for (int64_t i = 0; i < face_count; i++) memcpy(tree->tri + 9 * i, tri_src + 9 * bd.order[i], 9 * sizeof(double));
    tree->tri_disk = malloc(sizeof(Disk) * (size_t)face_count);
    for (int64_t i = 0; i < face_count; i++) fit_disk(tree->tri, i, i + 1, &tree->tri_disk[i]);
    tree->node_disk = malloc(sizeof(Disk) * (size_t)bd.node_count);
    for (int32_t i = 0; i < bd.node_count; i++) fit_disk(tree->tri, bd.node_begin[i], bd.node_end[i], &tree->node_disk[i]);
    free(bd.node_begin);
    free(bd.node_end);
    free(tri_src);
    free(bd.tri_box);
    free(bd.centroid);
    return tree;
}

void nearest_free(void *handle) {
    Tree *tree = handle;
    if (!tree) return;
    free(tree->nodes);
    free(tree->tri);
    free(tree->tri_disk);
    free(tree->node_disk);
    free(tree->face_id);
    free(tree);
}

int32_t nearest_node_count(const void *handle) { return ((const Tree *)handle)->node_count; }


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

static inline double box_distance2(const Node *n, const double *p) {
    double d2 = 0;
    for (int k = 0; k < 3; k++) {
        double lo = n->lo[k] - p[k], hi = p[k] - n->hi[k];
        double d = lo > 0 ? lo : (hi > 0 ? hi : 0);
        d2 += d * d;
    }
    return d2;
}

/* Lower bound on the squared distance from p to node i's triangles: its box, then, when the box
 * cannot rule it out, the tighter cylinder. */
static inline double child_bound2(const Tree *tree, int32_t i, const double *p, double best) {
    double box = box_distance2(&tree->nodes[i], p);
    if (box >= best) return box;
    double disk = disk_distance2(&tree->node_disk[i], p);
    return disk > box ? disk : box;
}

/* For each of `count` points (3 doubles each): squared distance, closest point (may be NULL)
 * and original face index (may be NULL). Points in spatial order are fastest. */
void nearest_query(const void *handle, const double *points, int64_t count, double *squared,
                   double *closest, int64_t *face) {
    const Tree *tree = handle;
    const Node *nodes = tree->nodes;
    int32_t stack[STACK];
    double stack_d2[STACK];
    int64_t hint = 0; /* leaf-order triangle closest to the previous point */
    for (int64_t i = 0; i < count; i++) {
        const double *p = points + 3 * i;
        double q[3], best_q[3];
        double best = triangle_closest(p, tree->tri + 9 * hint, best_q);
        int64_t best_tri = hint;
        int top = 0;
        stack[top] = 0;
        stack_d2[top++] = box_distance2(&nodes[0], p);
        while (top > 0) {
            top--;
            if (stack_d2[top] >= best) continue;
            const Node *n = &nodes[stack[top]];
            if (n->count > 0) {
                for (int32_t t = n->start; t < n->start + n->count; t++) {
                    if (disk_distance2(&tree->tri_disk[t], p) >= best) continue;
                    double d2 = triangle_closest(p, tree->tri + 9 * (int64_t)t, q);
                    if (d2 < best) { best = d2; best_tri = t; memcpy(best_q, q, sizeof q); }
                }
                continue;
            }
            int32_t left = stack[top] + 1, right = n->start;
            double dl = child_bound2(tree, left, p, best), dr = child_bound2(tree, right, p, best);
            int32_t near = dl <= dr ? left : right, far = dl <= dr ? right : left;
            double dnear = dl <= dr ? dl : dr, dfar = dl <= dr ? dr : dl;
            if (dfar < best) { stack[top] = far; stack_d2[top++] = dfar; }
            if (dnear < best) { stack[top] = near; stack_d2[top++] = dnear; }
        }
        hint = best_tri;
        squared[i] = best;
        if (closest) memcpy(closest + 3 * i, best_q, sizeof best_q);
        if (face) face[i] = tree->face_id[best_tri];
    }
}

/* Sign sharing on closed meshes: the open ball of radius d around a point with distance d holds
 * no surface, so every point inside it has the same winding number. Walking the points in
 * order, a point inside the current anchor's ball (or holding the anchor inside its own) takes
 * that anchor; any other point becomes the new anchor. anchor[i] = i marks an anchor. Every
 * radius shrinks by `relative` of itself and by `slack` (a length): room for the distances'
 * rounding (float32 distances need relative >= 2^-24). */
int64_t nearest_link_anchors(const double *points, const double *distance, int64_t count, double relative,
                             double slack, int64_t *anchor) {
    int64_t current = -1, anchors = 0;
    for (int64_t i = 0; i < count; i++) {
        if (current >= 0) {
            const double *p = points + 3 * i, *a = points + 3 * current;
            double r = distance[i] > distance[current] ? distance[i] : distance[current];
            r = r * (1.0 - relative) - slack; /* strictly inside, with room for the distances' rounding */
            double d2 = (p[0] - a[0]) * (p[0] - a[0]) + (p[1] - a[1]) * (p[1] - a[1]) + (p[2] - a[2]) * (p[2] - a[2]);
            if (r > 0 && d2 < r * r) { anchor[i] = current; continue; }
        }
        anchor[i] = current = i;
        anchors++;
    }
    return anchors;
}

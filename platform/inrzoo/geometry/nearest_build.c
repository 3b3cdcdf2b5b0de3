/* Building the closest-point tree (nearest.h): binned SAH over the triangles, a cylinder per node,
 * then the binary tree collapsed into 4-wide nodes. */
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "nearest.h"

#define LEAF_SIZE 4     /* triangles below which a node is always a leaf */
#define BINS 16         /* SAH bins per split */
#define MAX_DEPTH 60    /* deeper nodes become leaves (degenerate inputs); bounds the query stack */

typedef struct {
    float lo[3], hi[3];
    int32_t start; /* leaf: first triangle; inner: index of the right child (left is this + 1) */
    int32_t count; /* leaf: number of triangles; inner: 0 */
} Node;

typedef struct { double lo[3], hi[3]; } Box;

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
    int32_t node_count;
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

/* Node arrays are sized up front: a binary tree whose leaves hold at least one triangle each has
 * at most 2F - 1 nodes. */
static int32_t new_node(Builder *bd) { return bd->node_count++; }

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
    bd->nodes[index].start = right;
    bd->nodes[index].count = 0;
}

/* The cylinder of triangles [begin, end) (9 doubles each): axis along their area-weighted normal
 * (any axis is valid; a closed or folded set only gets a loose one), centered on their corners'
 * bounding-box center. Axis and center are rounded to float32 first and the radius and extent
 * measured against those, so the stored cylinder holds the triangles exactly (the query divides
 * out the axis' length, within rounding of 1). Radius and extent are rounded outward. */
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
    for (int k = 0; k < 3; k++) { /* float32 values (as the query tree stores them); n is unit to rounding */
        d->n[k] = (float)(length > 0 ? n[k] / length : (k == 2));
        d->c[k] = (float)(0.5 * (box.lo[k] + box.hi[k]));
    }
    double r2 = 0, lo = DBL_MAX, hi = -DBL_MAX, scale = 0;
    for (int64_t i = begin; i < end; i++) {
        for (int c = 0; c < 3; c++) {
            const double *v = tri + 9 * i + 3 * c;
            double dx[3] = {v[0] - d->c[0], v[1] - d->c[1], v[2] - d->c[2]};
            /* |n x dx|^2 rather than |dx|^2 - h^2, which cancels for vertices near the axis */
            double cx = d->n[1] * dx[2] - d->n[2] * dx[1], cy = d->n[2] * dx[0] - d->n[0] * dx[2];
            double cz = d->n[0] * dx[1] - d->n[1] * dx[0];
            double h = dot3(d->n, dx), lateral = cx * cx + cy * cy + cz * cz;
            r2 = lateral > r2 ? lateral : r2;
            lo = h < lo ? h : lo;
            hi = h > hi ? h : hi;
            scale = dot3(dx, dx) > scale ? dot3(dx, dx) : scale;
        }
    }
    double slack = 1e-9 * sqrt(scale) + 1e-300; /* covers the rounding of h and of the lateral distance */
    d->r = nextafterf((float)(sqrt(r2) + slack), INFINITY);
    d->lo = nextafterf((float)(lo - slack), -INFINITY);
    d->hi = nextafterf((float)(hi + slack), INFINITY);
}

typedef struct {
    const Node *nodes;
    const Disk *disk;
    Wide *wide;
    int32_t count, capacity;
} Collapser;

static double node_area(const Node *n) {
    double d0 = n->hi[0] - n->lo[0], d1 = n->hi[1] - n->lo[1], d2 = n->hi[2] - n->lo[2];
    return d0 * d1 + d1 * d2 + d2 * d0;
}

/* Wide node for binary node `root`: its children, then the inner child of largest area replaced
 * by its own two children, until WIDTH children or only leaves. Returns the wide node's index,
 * or -1 when memory ran out. */
static int32_t collapse(Collapser *cl, int32_t root) {
    const Node *nodes = cl->nodes;
    int32_t slot[WIDTH];
    int m = 0;
    if (nodes[root].count > 0) slot[m++] = root; /* a tree of one leaf */
    else { slot[m++] = root + 1; slot[m++] = nodes[root].start; }
    while (m < WIDTH) {
        int pick = -1;
        double area = -1;
        for (int k = 0; k < m; k++)
            if (nodes[slot[k]].count == 0 && node_area(&nodes[slot[k]]) > area) { pick = k; area = node_area(&nodes[slot[k]]); }
        if (pick < 0) break;
        int32_t inner = slot[pick];
        slot[pick] = inner + 1;
        slot[m++] = nodes[inner].start;
    }
    if (cl->count == cl->capacity) {
        Wide *grown = realloc(cl->wide, sizeof(Wide) * 2 * (size_t)cl->capacity);
        if (!grown) return -1;
        cl->wide = grown;
        cl->capacity *= 2;
    }
    int32_t index = cl->count++;
    for (int k = 0; k < WIDTH; k++) {
        Wide *w = &cl->wide[index];
        if (k >= m) { /* empty slot: an infinite box distance rules it out */
            for (int a = 0; a < 3; a++) { w->lo[a][k] = INFINITY; w->hi[a][k] = -INFINITY; w->c[a][k] = 0; w->n[a][k] = a == 2; }
            w->r[k] = w->dlo[k] = w->dhi[k] = 0;
            w->child[k] = 0;
            w->count[k] = -1;
            continue;
        }
        const Node *n = &nodes[slot[k]];
        const Disk *d = &cl->disk[slot[k]];
        for (int a = 0; a < 3; a++) { /* every value is float32 already (set_node_box, fit_disk) */
            w->lo[a][k] = n->lo[a]; w->hi[a][k] = n->hi[a];
            w->c[a][k] = (float)d->c[a]; w->n[a][k] = (float)d->n[a];
        }
        w->r[k] = (float)d->r; w->dlo[k] = (float)d->lo; w->dhi[k] = (float)d->hi;
        w->count[k] = n->count;
        w->child[k] = n->count > 0 ? n->start : 0;
        if (n->count == 0) {
            int32_t child = collapse(cl, slot[k]); /* may move cl->wide: index again */
            if (child < 0) return -1;
            cl->wide[index].child[k] = child;
        }
    }
    return index;
}

/* The tree of `face_count` >= 1 triangles (3 vertex indices each), or NULL when memory runs out. */
void *nearest_build(const double *vertices, const int64_t *faces, int64_t face_count) {
    if (face_count < 1 || face_count > INT32_MAX / 2) return NULL;
    size_t faces_n = (size_t)face_count, nodes_n = 2 * faces_n - 1;
    Tree *tree = calloc(1, sizeof(Tree));
    Builder bd = {0};
    double *tri_src = malloc(sizeof(double) * 9 * faces_n);
    bd.tri_box = malloc(sizeof(Box) * faces_n);
    bd.centroid = malloc(sizeof(double) * 3 * faces_n);
    bd.order = malloc(sizeof(int64_t) * faces_n);
    bd.nodes = malloc(sizeof(Node) * nodes_n);
    bd.node_begin = malloc(sizeof(int64_t) * nodes_n);
    bd.node_end = malloc(sizeof(int64_t) * nodes_n);
    Disk *node_disk = malloc(sizeof(Disk) * nodes_n);
    Collapser cl = {bd.nodes, node_disk, malloc(sizeof(Wide) * 64), 0, 64};
    if (tree) {
        tree->tri = malloc(sizeof(double) * 9 * faces_n);
        tree->face_id = bd.order;
        tree->tri_count = face_count;
    }
    int ok = tree && tree->tri && tri_src && bd.tri_box && bd.centroid && bd.order && bd.nodes && bd.node_begin &&
             bd.node_end && node_disk && cl.wide;
    if (ok) {
        for (int64_t f = 0; f < face_count; f++) {
            box_empty(&bd.tri_box[f]);
            for (int c = 0; c < 3; c++) {
                const double *v = vertices + 3 * faces[3 * f + c];
                memcpy(tri_src + 9 * f + 3 * c, v, 3 * sizeof(double));
                box_add(&bd.tri_box[f], v);
            }
            for (int k = 0; k < 3; k++) {
                bd.centroid[3 * f + k] = 0.5 * (bd.tri_box[f].lo[k] + bd.tri_box[f].hi[k]);
                double extreme = fmax(fabs(bd.tri_box[f].lo[k]), fabs(bd.tri_box[f].hi[k]));
                tree->scale = extreme > tree->scale ? extreme : tree->scale;
            }
            bd.order[f] = f;
        }
        bd.tri_src = tri_src;
        build_node(&bd, new_node(&bd), 0, face_count, 0);
        for (int64_t i = 0; i < face_count; i++) memcpy(tree->tri + 9 * i, tri_src + 9 * bd.order[i], 9 * sizeof(double));
        for (int32_t i = 0; i < bd.node_count; i++) fit_disk(tree->tri, bd.node_begin[i], bd.node_end[i], &node_disk[i]);
        ok = collapse(&cl, 0) == 0;
        tree->wide = cl.wide;
    }
    free(node_disk);
    free(bd.nodes);
    free(bd.node_begin);
    free(bd.node_end);
    free(tri_src);
    free(bd.tri_box);
    free(bd.centroid);
    if (!ok) {
        if (tree) {
            tree->wide = cl.wide;
            tree->face_id = bd.order;
            nearest_free(tree);
        } else {
            free(cl.wide);
            free(bd.order);
        }
        return NULL;
    }
    return tree;
}

void nearest_free(void *handle) {
    Tree *tree = handle;
    if (!tree) return;
    free(tree->wide);
    free(tree->tri);
    free(tree->face_id);
    free(tree);
}

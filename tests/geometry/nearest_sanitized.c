/* Builds and queries random trees (collapsed and coincident triangles included) under
 * AddressSanitizer and UndefinedBehaviorSanitizer: test_geometry_nearest.py compiles and runs it. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "nearest.h"

static double uniform(void) { return rand() / (double)RAND_MAX; }

int main(void) {
    srand(7);
    for (int trial = 0; trial < 40; trial++) {
        int nv = 3 + rand() % 200, nf = 1 + rand() % 400, np = 1000;
        double *v = malloc(sizeof(double) * 3 * nv), *p = malloc(sizeof(double) * 3 * np);
        double *squared = malloc(sizeof(double) * np), *closest = malloc(sizeof(double) * 3 * np);
        int64_t *f = malloc(sizeof(int64_t) * 3 * nf), *face = malloc(sizeof(int64_t) * np);
        int64_t *anchor = malloc(sizeof(int64_t) * np), *order = malloc(sizeof(int64_t) * np);
        char *seen = calloc(np, 1);
        float *p32 = malloc(sizeof(float) * 3 * np);
        for (int i = 0; i < 3 * nv; i++) v[i] = trial % 7 == 0 ? 0.5 : uniform(); /* all coincident */
        for (int i = 0; i < 3 * nf; i++) f[i] = rand() % nv;
        if (trial % 5 == 0)
            for (int i = 0; i < nf; i++) f[3 * i + 1] = f[3 * i]; /* collapsed edges */
        for (int i = 0; i < 3 * np; i++) p[i] = 3 * uniform() - 1;
        void *tree = nearest_build(v, f, nf);
        if (!tree) { printf("build failed\n"); return 1; }
        nearest_query(tree, p, np, squared, closest, face);
        nearest_query(tree, p, np, squared, NULL, NULL);
        nearest_link_anchors(p, squared, np, 1e-6, 0.0, anchor);
        for (int i = 0; i < np; i++)
            if (!(squared[i] >= 0) || face[i] < 0 || face[i] >= nf || anchor[i] < 0 || anchor[i] > i) {
                printf("trial %d point %d: bad answer\n", trial, i);
                return 1;
            }
        if (trial % 4 == 3) p[4] = NAN; /* ordering takes NaN (callers reject it) without an undefined cast */
        for (int i = 0; i < 3 * np; i++) p32[i] = (float)p[i];
        int ordered = trial % 3 ? np : 1; /* every third trial orders a single point */
        if (!nearest_morton_order(trial % 2 ? (void *)p : (void *)p32, trial % 2, ordered, order)) {
            printf("morton failed\n");
            return 1;
        }
        for (int i = 0; i < ordered; i++) { /* a permutation */
            if (order[i] < 0 || order[i] >= np || seen[order[i]]++) { printf("trial %d: bad order\n", trial); return 1; }
        }
        nearest_free(tree);
        free(v); free(p); free(squared); free(closest); free(f); free(face); free(anchor); free(order); free(seen); free(p32);
    }
    printf("ok\n");
    return 0;
}

"""Weight-space and point-cloud baselines for the weight-space benchmark (issue 17): an
NFN (permutation-equivariant neural functional) over INR weights, PointNet over surface
samples, and plain-torch training of classifiers on either. Plain torch modules until the zoo
core's model protocol lands; see README.md."""

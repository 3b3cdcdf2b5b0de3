"""linear: the smallest zoo model, a linear autoencoder over flattened INR weights.

It proves the core end to end (the smoke config zoo/configs/linear/smoke.yaml) and serves as the
weight-space baseline a learned encoder must beat: its embedding is a learned linear projection
of the raw weights (PCA-like), and decoding it gives back weights, hence a field.
"""

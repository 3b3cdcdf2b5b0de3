"""Downstream tasks of the zoo, one module each (its head, metric, config and task unit), all
registered by name in inrzoo.zoo.core.registry (kind "task") and run by inrzoo.zoo.core.tasks:

| task | needs | reports |
|---|---|---|
| classification | Encoder | test accuracy (and the same classifier on standardized raw weights, and chance) |
| retrieval | Encoder | mAP@1/5/10 and recall@k on the test split (a query's own augmented copies left out) |
| reconstruction | Encoder + FieldDecoder | Chamfer / F-score of decoded shapes against their input INRs |
| plots | Encoder (+ FieldDecoder for the strip) | interpolation strip and t-SNE PNGs |
| generation | Encoder + FieldDecoder | a latent-GAN on train embeddings, decoded meshes |
| transfer | Encoder + FieldDecoder | embedding-to-embedding transfer to a second model's space |
| segmentation | Encoder | part segmentation mIoU (datasets with part labels) |
"""

"""The inrzoo weight-dataset format (docs/format.md): writer, lazy reader, torch integration,
import of other INR weight formats and export of one INR.

    writer = inrzoo.create_weights("s3://bucket/ds.zarr", listing, [spec], dtype="float16")
    for unit in writer.work_units():          # hand each unit to one worker
        writer.write(unit, results)           # RowResult per fitted row
    writer.finalize()
    ds = inrzoo.open_weights("s3://bucket/ds.zarr", storage_options, split="train")
    report = inrzoo.store.verify("s3://bucket/ds.zarr", storage_options)   # every chunk checked
"""

from inrzoo.store.layout import FORMAT_NAME, FORMAT_VERSION, STATUS_CODES
from inrzoo.store.reader import WeightDataset, open_weights
from inrzoo.store.records import Record, RowResult, results_from_fit
from inrzoo.store.schema import ArchLayout
from inrzoo.store.storage import StoreError
from inrzoo.store.torch_data import WeightBatches, weight_loader
from inrzoo.store.verify import VerifyReport, verify
from inrzoo.store.creation import IncompleteDatasetError
from inrzoo.store.writer import WeightWriter, create_weights

__all__ = [
    "FORMAT_NAME",
    "FORMAT_VERSION",
    "IncompleteDatasetError",
    "STATUS_CODES",
    "ArchLayout",
    "Record",
    "RowResult",
    "StoreError",
    "VerifyReport",
    "WeightBatches",
    "WeightDataset",
    "WeightWriter",
    "create_weights",
    "open_weights",
    "results_from_fit",
    "verify",
    "weight_loader",
]

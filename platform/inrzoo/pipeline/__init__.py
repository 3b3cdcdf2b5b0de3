"""The conversion pipeline: collection listing -> prepare -> batched fit -> region writes -> finalize.

    from inrzoo.pipeline import convert, load_convert_config
    report = convert(load_convert_config("jobs/configs/davies.yaml", ["source.uri=meshes/"]))
"""

from inrzoo.pipeline.config import ConvertConfig, ResolvedConversion, load_convert_config, resolve
from inrzoo.pipeline.convert import convert
from inrzoo.pipeline.run import ConversionReport, run_conversion

__all__ = [
    "ConversionReport",
    "ConvertConfig",
    "ResolvedConversion",
    "convert",
    "load_convert_config",
    "resolve",
    "run_conversion",
]

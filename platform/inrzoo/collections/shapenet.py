"""ShapeNetCore v1 and v2 (Chang et al. 2015).

v1: <synset>/<model>/model.obj; v2: <synset>/<model>/models/model_normalized.obj. The synset ids
(WordNet offsets, eight digits) are named from taxonomy.json (a list of {synsetId, name,
children, numInstances}); the label is the first of the comma-separated names ("airplane" for
"airplane,aeroplane,plane"), and a `labels` selection may use any of the names or the synset id.
Splits come from the official split file all.csv (id,synsetId,subSynsetId,modelId,split), whose
synset ids lost their leading zero, when it is there.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Iterable, Literal

import fsspec

from inrzoo.collections.base import (
    Collection,
    CollectionError,
    ShapeRef,
    full_uri,
    join,
    read_csv,
    read_json,
    matching_files,
    register,
)

LAYOUTS = {
    "v1": re.compile(r"^(\d{8})/([^/]+)/model\.obj$"),
    "v2": re.compile(r"^(\d{8})/([^/]+)/models/model_normalized\.obj$"),
}
SHAPENET_TERMS = ("ShapeNet terms of use: non-commercial research and educational use only; "
                  "the models' copyrights stay with their creators (shapenet.org/terms)")


@register("shapenet")
@dataclass
class ShapeNetCore(Collection):
    version: Literal["auto", "v1", "v2"] = "auto"
    taxonomy: str | None = None  # URI of taxonomy.json; default <root>/taxonomy.json
    split_csv: str | None = None  # URI of the official split file; default <root>/all.csv if there

    title = "ShapeNetCore"
    license_note = SHAPENET_TERMS

    def layout_hint(self) -> str:
        return "expected <synset>/<model>/model.obj (v1) or <synset>/<model>/models/model_normalized.obj (v2)"

    def scan(self, fs: fsspec.AbstractFileSystem, root: str) -> Iterable[ShapeRef]:
        names = self._synset_names(fs, root)
        splits = self._splits(fs, root)
        layouts = LAYOUTS if self.version == "auto" else {self.version: LAYOUTS[self.version]}
        for rel, version, match in matching_files(fs, root, layouts):
            synset, model = match.groups()
            split, sub_synset = splits.get((synset, model), (None, None))
            full_name = names.get(synset)
            meta = {"synset_id": synset, "model_id": model, "synset_name": full_name, "version": version,
                    "sub_synset_id": sub_synset, "license": SHAPENET_TERMS}
            label = full_name.split(",")[0].strip() if full_name else synset
            yield ShapeRef(f"shapenet/{synset}/{model}", full_uri(fs, join(root, rel)), label, split, "mesh", meta)

    def label_keys(self, ref: ShapeRef) -> set[str | None]:
        names = ref.meta.get("synset_name") or ""
        return {ref.label, ref.meta["synset_id"], *(n.strip() for n in names.split(",") if n.strip())}

    def _synset_names(self, fs: fsspec.AbstractFileSystem, root: str) -> dict[str, str]:
        fs, path = self.locate(fs, self.taxonomy, join(root, "taxonomy.json"))
        if path is None:
            return {}
        data = read_json(fs, path)
        entries = data if isinstance(data, list) else None
        if entries is None or not all(isinstance(e, dict) and "synsetId" in e and "name" in e for e in entries):
            raise CollectionError(
                f"{full_uri(fs, path)}: malformed taxonomy (expected a list of objects with synsetId and name)"
            )
        return {str(e["synsetId"]).zfill(8): str(e["name"]) for e in entries}

    def _splits(self, fs: fsspec.AbstractFileSystem, root: str) -> dict[tuple[str, str], tuple[str, str]]:
        fs, path = self.locate(fs, self.split_csv, join(root, "all.csv"))
        if path is None:
            return {}
        table = {}
        for row in read_csv(fs, path, ["synsetId", "subSynsetId", "modelId", "split"]):
            if not row["synsetId"].isdigit():
                raise CollectionError(f"{full_uri(fs, path)}: malformed CSV (synsetId {row['synsetId']!r} is not a number)")
            table[(row["synsetId"].zfill(8), row["modelId"])] = (row["split"], row["subSynsetId"].zfill(8))
        return table

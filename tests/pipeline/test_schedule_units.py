"""runtime.schedule=labels: a conversion stopped part-way covers every class."""

from inrzoo.pipeline.run import labels_round_robin


def unit(start: int, label: str) -> dict:
    return {"start": start, "stop": start + 2, "rows": [start, start + 1],
            "refs": [{"id": f"s{start}", "label": label}, {"id": f"s{start}#aug1", "label": label}]}


def test_units_alternate_between_labels_in_listing_order():
    units = [unit(0, "a"), unit(2, "a"), unit(4, "a"), unit(6, "b"), unit(8, "c"), unit(10, "c")]
    assert [u["start"] for u in labels_round_robin(units)] == [0, 6, 8, 2, 10, 4]


def test_nothing_to_schedule():
    assert labels_round_robin([]) == []

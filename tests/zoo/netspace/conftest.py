import pytest


@pytest.fixture(scope="session")
def digits_zoo(tmp_path_factory):
    """A small real classifier zoo: lenet, plain_cnn and resnet8, 5 instances each (3 train, 1 val,
    1 test), 1-8 epochs."""
    from netspace_helpers import classifier_zoo

    return classifier_zoo(str(tmp_path_factory.mktemp("netspace") / "zoo.zarr"), instances=5, max_epochs=8,
                          families=("lenet", "plain_cnn", "resnet8"))

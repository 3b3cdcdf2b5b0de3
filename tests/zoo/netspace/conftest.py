import pytest


@pytest.fixture(scope="session")
def digits_zoo(tmp_path_factory):
    """A small real classifier zoo: lenet, plain_cnn and resnet8, 4 instances each, 1-8 epochs."""
    from netspace_helpers import classifier_zoo

    return classifier_zoo(str(tmp_path_factory.mktemp("netspace") / "zoo.zarr"), instances=4, max_epochs=8,
                          families=("lenet", "plain_cnn", "resnet8"))

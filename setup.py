"""Package mapping that pyproject.toml cannot express: the library lives in platform/inrzoo and
the model zoo in zoo/, installed as the subpackage inrzoo.zoo. platform/ is only a source root
(never a package: that name would shadow the standard library)."""

from setuptools import find_packages, setup

zoo_packages = ["inrzoo.zoo"] + [f"inrzoo.zoo.{name}" for name in find_packages("zoo")]

setup(
    packages=find_packages("platform") + zoo_packages,
    package_dir={"": "platform", "inrzoo.zoo": "zoo"},
    package_data={"inrzoo": ["data/**/*"], "inrzoo.zoo": ["configs/**/*.yaml"]},
    include_package_data=True,
)

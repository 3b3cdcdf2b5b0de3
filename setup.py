"""Package mapping that pyproject.toml cannot express: the library lives in platform/inrzoo and
the model zoo in zoo/, installed as the subpackage inrzoo.zoo. platform/ is only a source root
(never a package: that name would shadow the standard library)."""

from setuptools import Extension, find_packages, setup

# The closest-point BVH (plain C99 with GCC/Clang vector extensions, loaded through ctypes, so no Python headers are needed).
# Optional: without a C compiler the install still succeeds and queries fall back to libigl.
# No -march=native: the library must run on every node of a cluster image built elsewhere.
nearest = Extension(
    "inrzoo.geometry._nearest",
    sources=["platform/inrzoo/geometry/nearest_build.c", "platform/inrzoo/geometry/nearest_query.c",
             "platform/inrzoo/geometry/morton.c"],
    depends=["platform/inrzoo/geometry/nearest.h"],
    extra_compile_args=["-O3", "-std=c99", "-fno-math-errno"],
    libraries=["m"],
    optional=True,
)

zoo_packages = ["inrzoo.zoo"] + [f"inrzoo.zoo.{name}" for name in find_packages("zoo")]

setup(
    packages=find_packages("platform") + zoo_packages,
    package_dir={"": "platform", "inrzoo.zoo": "zoo"},
    package_data={"inrzoo": ["data/**/*"], "inrzoo.zoo": ["configs/**/*.yaml"]},
    include_package_data=True,
    ext_modules=[nearest],
)

# The Space-XNet harness in a container: README.md's "Install", then a run with results in /results.
#
#   docker build -t space-xnet-harness .
#   docker run --rm -v "$PWD/results:/results" space-xnet-harness            # walker_1584.yaml
#   docker run --rm -v "$PWD/results:/results" space-xnet-harness \
#       python -m harness run topologies/tiny.yaml --out /results
#
# BASE_IMAGE may be any Debian bookworm image: the official Python image (default), or a bare
# bookworm root file system (debootstrap), for which Debian's Python 3.11 is installed below.
# ci/container_check.sh builds and runs it with podman from a local debootstrap base.
#
# Only for a local build behind a TLS-intercepting proxy: pass the host's CA bundle as the build
# secret "ca" (--secret id=ca,src=/etc/ssl/certs/ca-certificates.crt). pip uses it during the pip
# step only; it is never stored in the image.

ARG BASE_IMAGE=python:3.11-slim-bookworm
FROM ${BASE_IMAGE}

ARG DEBIAN_FRONTEND=noninteractive
ENV LANG=C.UTF-8 \
    PYTHONUNBUFFERED=1

# CMake, a C++20 compiler and make build the C++ ns-3 module (and cppyy needs the C++ headers at
# run time). A base without Python 3.11 (bare Debian bookworm) gets Debian's python3 (3.11).
RUN apt-get update \
 && apt-get install -y --no-install-recommends cmake g++ make \
 && if ! command -v python3.11 >/dev/null; then \
        apt-get install -y --no-install-recommends python3 python3-venv python3-dev; \
    fi \
 && apt-get clean \
 && rm -rf /var/lib/apt/lists/*

# README "Install", step 1: the venv. Putting its bin/ first on PATH is what activating it does.
RUN python3.11 -m venv /opt/venv
ENV VIRTUAL_ENV=/opt/venv \
    PATH=/opt/venv/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin

WORKDIR /opt/space-xnet

# README "Install", step 2, in two passes of the same command. This slow first pass (the ~70 MB
# ns3 wheel, cppyy built from source, scipy...) sees only pyproject.toml, so it is rebuilt only when
# the dependencies change: the package, its C++ sources and README.md (pyproject's `readme`,
# metadata only) are empty stand-ins here. The second pass, after the checkout is copied, replaces
# the stand-in with the real package (pip always reinstalls a local directory; the dependencies are
# already satisfied). The installed package carries its C++ sources (harness/_cxx/).
COPY pyproject.toml ./
RUN --mount=type=secret,id=ca \
    if [ -s /run/secrets/ca ]; then export PIP_CERT=/run/secrets/ca; fi \
 && mkdir -p harness ns3_modules && touch harness/__init__.py ns3_modules/CMakeLists.txt README.md \
 && pip install --no-cache-dir --root-user-action=ignore ".[test]" \
 && rm -rf harness ns3_modules README.md

COPY . .
RUN --mount=type=secret,id=ca \
    if [ -s /run/secrets/ca ]; then export PIP_CERT=/run/secrets/ca; fi \
 && pip install --no-cache-dir --root-user-action=ignore ".[test]"

# Compile the C++ module now, so that a container start does not: `doctor` (run outside the
# checkout, so it sees the installed package) builds it into the cache, keyed by the sources' hash,
# which is the same at run time, and loads it. Readable by all, for `run --user UID:GID`.
ENV SPACEXNET_CACHE_DIR=/opt/space-xnet-cache
RUN cd / && space-xnet doctor \
 && rm -f "$SPACEXNET_CACHE_DIR"/*.log "$SPACEXNET_CACHE_DIR"/*.lock \
 && chmod -R a+rX "$SPACEXNET_CACHE_DIR"

CMD ["python", "-m", "harness", "run", "topologies/walker_1584.yaml", "--out", "/results"]

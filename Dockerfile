# syntax=docker/dockerfile:1
# SageMaker-compatible image of inception_time_nb: `docker run IMAGE train` and `docker run IMAGE serve`.
#
#   docker build -t inception-time .                                   # CPU (torch's CPU-only wheels)
#   docker build --build-arg TORCH_VARIANT=cu124 -t inception-time:cuda .   # CUDA 12.4 (torch's CUDA wheels)
#
# torch's CUDA wheels bring the CUDA runtime libraries with them, so both variants share this slim base;
# the host needs only the NVIDIA driver and the container toolkit (SageMaker's GPU instances have both).
# The package is installed by docker/install.sh, the same script the test suite runs in a fresh venv.
ARG PYTHON_VERSION=3.11
FROM python:${PYTHON_VERSION}-slim

ARG TORCH_VARIANT=cpu
ARG TORCH_SPEC=torch
LABEL com.amazonaws.sagemaker.capabilities.accept-bind-to-port=true

ENV PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

COPY settings.ini setup.py README.md LICENSE MANIFEST.in /tmp/src/
COPY inception_time_nb /tmp/src/inception_time_nb
COPY docker/install.sh /tmp/src/docker/install.sh
RUN TORCH_SPEC="${TORCH_SPEC}" TORCH_INDEX_URL="https://download.pytorch.org/whl/${TORCH_VARIANT}" PIP_ARGS=--no-cache-dir \
        sh /tmp/src/docker/install.sh /tmp/src \
    && rm -rf /tmp/src

COPY docker/entrypoint.sh /usr/local/bin/sagemaker-entrypoint
EXPOSE 8080
ENTRYPOINT ["/usr/local/bin/sagemaker-entrypoint"]

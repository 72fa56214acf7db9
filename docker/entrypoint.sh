#!/bin/sh
# The image's ENTRYPOINT. SageMaker starts a container as `docker run IMAGE train` or `docker run IMAGE serve`;
# any other command runs as given (`docker run IMAGE inception_time_predict --help`).
# `exec` replaces this shell by the program, so the program is the container's main process and receives
# SIGTERM itself (SageMaker's stop); no init process such as tini is needed, nor wanted (tini would take
# `train`/`serve` for its own arguments).
set -e
case "${1:-}" in
    train) shift; exec inception_time_sagemaker_train "$@" ;;
    serve) shift; exec inception_time_sagemaker_serve "$@" ;;
    "")    echo "usage: docker run IMAGE train|serve (SageMaker's programs), or docker run IMAGE COMMAND ..." >&2; exit 2 ;;
    *)     exec "$@" ;;
esac

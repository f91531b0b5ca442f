#!/usr/bin/env bash
# System packages the tests need, from Debian: Chromium for the browser e2e tests, Python with Jupyter
# and sshd for the kernel integration tests, uvicorn for the shipped scoring server (endpoints), Slurm (slurmctld, slurmd, CLI) and munge for the jobs tests.
# Idempotent; needs root (or sudo) only when something is missing.
set -euo pipefail
need=()
command -v chromium >/dev/null 2>&1 || need+=(chromium)
fc-list 2>/dev/null | grep -qi dejavu || need+=(fonts-dejavu-core)
# python3-xgboost: the Builder's XGBoost candidate and the registry's xgboost model flavor.
# python3-torch (CPU): the distributed-training job test (torchrun with gloo on the test Slurm).
# Kernels & notebooks: Debian's Python with Jupyter (the app discovers it; tests start real servers) and sshd for the tunnel tests.
# python3-boto3 and kubectl: independent clients that check the AWS and Kubernetes test fakes.
# kubectl comes from Debian's kubernetes-client only when none is on PATH (a preinstalled one
# owns the same files).
command -v kubectl >/dev/null 2>&1 || need+=(kubernetes-client)
for pkg in python3-jupyter-server python3-ipykernel python3-pandas python3-matplotlib python3-sklearn python3-xgboost python3-uvicorn python3-yaml openssh-server openssh-client slurm-wlm munge python3-torch python3-boto3; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || need+=("$pkg")
done
if [ ${#need[@]} -eq 0 ]; then
  echo "setup-system: all system packages present"
  exit 0
fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then SUDO="sudo"; else
    echo "setup-system: missing ${need[*]} and not root; install them with apt-get" >&2
    exit 1
  fi
fi
echo "setup-system: installing ${need[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
echo "setup-system: done"

#!/usr/bin/env bash
# Trains the shipped default detector model set into models/ (models/default-s<seed>/
# and models/current), reproducibly: simulated traffic from a fixed start and
# seed, through the real correlator into a scratch embedded database, trained
# with the simulator's labels. Same seed, same code: the same ONNX files.
# Usage: scripts/train-default-model.sh [SEED]   (needs `make build` first)
set -euo pipefail
cd "$(dirname "$0")/.."
seed="${1:-7}"
exec node bin/ja4.js detector train --default --seed "$seed" --models models

#!/usr/bin/env bash
# Build the Docker image with podman, run it as a PaaS would (PORT set), check that the API
# classifies a real GTSRB test image correctly and that the app page loads, then clean up.
set -euo pipefail
cd "$(dirname "$0")/.."
DATA="${TRAFFIC_SIGNS_DATA:-../shared/data/gtsrb32}"
IMAGE=localhost/traffic-signs:smoke
work=$(mktemp -d)
cids=()
cleanup() {
  for cid in "${cids[@]}"; do podman rm -f "$cid" >/dev/null 2>&1 || true; done
  rm -rf "$work"
}
trap cleanup EXIT

bash ../shared/docker/setup-podman.sh
podman build -q --format docker --network=host --build-arg BASE_IMAGE=localhost/python:3.11-slim-local -t "$IMAGE" .
size=$(podman image inspect "$IMAGE" --format '{{.Size}}')
echo "image size: $((size / 1000000)) MB"
[ "$size" -lt 500000000 ] || { echo "image larger than 500 MB"; exit 1; }

# A real test image and its label from the official ground truth.
unzip -p "$DATA/GTSRB_Final_Test_Images.zip" GTSRB/Final_Test/Images/00005.ppm > "$work/sign.ppm"
expected=$(unzip -p "$DATA/GTSRB_Final_Test_GT.zip" GT-final_test.csv | awk -F';' '$1=="00005.ppm"{print $8}' | tr -d '\r')

wait_for() {  # url
  for _ in $(seq 1 60); do curl -fsS -o /dev/null "$1" && return 0; sleep 1; done
  echo "no answer from $1"; return 1
}

cids+=("$(podman run -d --init --network=host -e PORT=18765 -e TRAFFIC_SIGNS_SERVE=api "$IMAGE")")
wait_for http://127.0.0.1:18765/readyz
answer=$(curl -fsS -F "files=@$work/sign.ppm" http://127.0.0.1:18765/v1/predict)
echo "api: $answer"
python3 -c "import json,sys; r=json.loads(sys.argv[1])[0]; assert r['class_id']==int(sys.argv[2]), (r, sys.argv[2])" "$answer" "$expected"

cids+=("$(podman run -d --init --network=host -e PORT=18766 "$IMAGE")")
wait_for http://127.0.0.1:18766/_stcore/health
curl -fsS http://127.0.0.1:18766/ | grep -qi "<title>" && echo "app: page served"
podman exec "${cids[0]}" python -c "import importlib.util as u; assert u.find_spec('torch') is None; print('no torch in the image')"
echo "docker smoke test passed"

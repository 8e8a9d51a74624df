#!/usr/bin/env bash
# Build the Docker image with podman, run it as a PaaS would (PORT set), check that the API
# classifies a real GTSRB test image correctly and names the sign in a real H.264 clip
# (POST /v1/track), and that the app page loads; then clean up.
# The clip is made here with the project's environment ($PYTHON, default .venv/bin/python);
# ../shared (or $SHARED) holds the podman setup and the GTSRB data.
set -euo pipefail
cd "$(dirname "$0")/.."
SHARED="${SHARED:-../shared}"
DATA="${TRAFFIC_SIGNS_DATA:-$SHARED/data/gtsrb32}"
PYTHON="${PYTHON:-.venv/bin/python}"
IMAGE=localhost/traffic-signs:smoke
work=$(mktemp -d)
cids=()
cleanup() {
  for cid in "${cids[@]}"; do podman rm -f "$cid" >/dev/null 2>&1 || true; done
  rm -rf "$work"
}
trap cleanup EXIT

bash "$SHARED/docker/setup-podman.sh"
# Containers run this build's image by its id, whatever else is tagged the same meanwhile.
podman build -q --format docker --network=host --build-arg BASE_IMAGE=localhost/python:3.11-slim-local \
  --iidfile "$work/image" -t "$IMAGE" .
image=$(cat "$work/image")
size=$(podman image inspect "$image" --format '{{.Size}}')
echo "image size: $((size / 1000000)) MB"
[ "$size" -lt 500000000 ] || { echo "image larger than 500 MB"; exit 1; }

# A real test image and its label from the official ground truth; a clip of a drawn sign.
unzip -p "$DATA/GTSRB_Final_Test_Images.zip" GTSRB/Final_Test/Images/00005.ppm > "$work/sign.ppm"
expected=$(unzip -p "$DATA/GTSRB_Final_Test_GT.zip" GT-final_test.csv | awk -F';' '$1=="00005.ppm"{print $8}' | tr -d '\r')
clip_sign=$("$PYTHON" scripts/sign_clip.py "$work/drive.mp4")

free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
wait_for() {  # url
  for _ in $(seq 1 60); do curl -fsS -o /dev/null "$1" && return 0; sleep 1; done
  echo "no answer from $1"; return 1
}

api=$(free_port)
cids+=("$(podman run -d --init --network=host -e PORT="$api" -e TRAFFIC_SIGNS_SERVE=api "$image")")
wait_for "http://127.0.0.1:$api/readyz"
answer=$(curl -fsS -F "files=@$work/sign.ppm" "http://127.0.0.1:$api/v1/predict")
echo "api: $answer"
python3 -c "import json,sys; r=json.loads(sys.argv[1])[0]; assert r['class_id']==int(sys.argv[2]), (r, sys.argv[2])" "$answer" "$expected"
tracked=$(curl -fsS -F "file=@$work/drive.mp4" "http://127.0.0.1:$api/v1/track")
python3 -c "
import json, sys
tracks = json.loads(sys.argv[1])['tracks']
assert [t['class_id'] for t in tracks] == [int(sys.argv[2])], tracks
print(f\"api clip: {tracks[0]['label']} ({tracks[0]['confidence']:.0%}), seen in {tracks[0]['frames']} frames\")
" "$tracked" "$clip_sign"

app=$(free_port)
cids+=("$(podman run -d --init --network=host -e PORT="$app" "$image")")
wait_for "http://127.0.0.1:$app/_stcore/health"
curl -fsS "http://127.0.0.1:$app/" | grep -qi "<title>" && echo "app: page served"
podman exec "${cids[0]}" python -c "import importlib.util as u; assert u.find_spec('torch') is None; print('no torch in the image')"
echo "docker smoke test passed"

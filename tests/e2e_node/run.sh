#!/usr/bin/env bash
# Runs openai_sdk.test.mjs against a real `hearth serve` on a free loopback port.
#   tests/e2e_node/run.sh HEARTH_BINARY
# Exit 77 (skipped) when node, the installed SDK or the shared model is missing.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
hearth="$1"
model="$here/../../../shared/models/aidreams260K/aidreams260K-f32.gguf"
if ! command -v node >/dev/null; then echo "SKIP: node is not installed (scripts/bootstrap)"; exit 77; fi
if [ ! -d "$here/node_modules/openai" ]; then
  echo "SKIP: the OpenAI SDK is not installed; run scripts/e2e-setup (npm ci in tests/e2e_node)"; exit 77
fi
if [ ! -f "$model" ]; then echo "SKIP: shared test model not found at $model"; exit 77; fi

work="$(mktemp -d)"
trap 'kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; rm -rf "$work"' EXIT
key="hk_e2e_$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')"
hash="$(printf '%s' "$key" | sha256sum | cut -d' ' -f1)"
printf '{"keys":[{"id":"k_e2e","role":"user","sha256":"%s"}]}\n' "$hash" > "$work/keys.json"
chmod 600 "$work/keys.json"
"$hearth" serve -m "$model" --port 0 --port-file "$work/port" --parallel 2 --ctx 512 \
  --api-keys "$work/keys.json" --log-dir "$work/logs" --max-body-bytes 2097152 >"$work/serve.log" 2>&1 &
pid=$!
for _ in $(seq 1 200); do
  if [ -s "$work/port" ] && curl -fsS "http://127.0.0.1:$(cat "$work/port")/ready" >/dev/null 2>&1; then break; fi
  if ! kill -0 "$pid" 2>/dev/null; then cat "$work/serve.log"; echo "hearth serve exited"; exit 1; fi
  sleep 0.1
done
port="$(cat "$work/port")"
export HEARTH_URL="http://127.0.0.1:$port" HEARTH_KEY="$key"
HEARTH_MODEL="$(curl -fsS -H "Authorization: Bearer $key" "$HEARTH_URL/v1/models" | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log(JSON.parse(s).data[0].id))')"
export HEARTH_MODEL
status=0
node --test "$here/openai_sdk.test.mjs" || status=$?
if [ "$status" -ne 0 ]; then echo "--- server log ---"; tail -n 50 "$work/serve.log"; fi
exit "$status"

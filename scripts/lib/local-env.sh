# Sourced by scripts/start and scripts/test: the environment of a local HMS on this machine.
# Every value can be overridden by exporting it before running the script.

: "${HMS_ROOT:?source scripts/lib/node.sh first}"

export HMS_ENV="${HMS_ENV:-development}"
export HMS_PG_HOST="${HMS_PG_HOST:-127.0.0.1}"
export HMS_PG_PORT="${HMS_PG_PORT:-5432}"
export HMS_DATABASE_NAME="${HMS_DATABASE_NAME:-hms}"
export HMS_DATABASE_ADMIN_URL="${HMS_DATABASE_ADMIN_URL:-postgres://postgres@$HMS_PG_HOST:$HMS_PG_PORT/postgres}"
export HMS_REDIS_URL="${HMS_REDIS_URL:-redis://127.0.0.1:6379}"
export HMS_KAFKA_BROKERS="${HMS_KAFKA_BROKERS:-127.0.0.1:${HMS_KAFKA_PORT:-9092}}"
# Subgraphs listen on loopback only: on this machine nothing but the gateway should reach them.
export HMS_HOST="${HMS_HOST:-127.0.0.1}"
export HMS_GATEWAY_HOST="${HMS_GATEWAY_HOST:-127.0.0.1}"
export HMS_GATEWAY_PORT="${HMS_GATEWAY_PORT:-4000}"
export HMS_IDENTITY_PORT="${HMS_IDENTITY_PORT:-4001}"
export HMS_CLINICAL_PORT="${HMS_CLINICAL_PORT:-4002}"
export HMS_SCHEDULING_PORT="${HMS_SCHEDULING_PORT:-4003}"
export HMS_AUDIT_PORT="${HMS_AUDIT_PORT:-4007}"
# The gateway takes subgraph URLs from gateway/subgraphs.json unless these override them, so a changed
# port above reaches the gateway too.
export HMS_SUBGRAPH_IDENTITY_URL="${HMS_SUBGRAPH_IDENTITY_URL:-http://127.0.0.1:$HMS_IDENTITY_PORT/graphql}"
export HMS_SUBGRAPH_CLINICAL_URL="${HMS_SUBGRAPH_CLINICAL_URL:-http://127.0.0.1:$HMS_CLINICAL_PORT/graphql}"
export HMS_SUBGRAPH_SCHEDULING_URL="${HMS_SUBGRAPH_SCHEDULING_URL:-http://127.0.0.1:$HMS_SCHEDULING_PORT/graphql}"
export HMS_SUBGRAPH_AUDIT_URL="${HMS_SUBGRAPH_AUDIT_URL:-http://127.0.0.1:$HMS_AUDIT_PORT/graphql}"
export HMS_JWT_ISSUER="${HMS_JWT_ISSUER:-http://127.0.0.1:$HMS_IDENTITY_PORT}"
export HMS_JWT_AUDIENCE="${HMS_JWT_AUDIENCE:-hms-graph}"
export HMS_JWKS_URL="${HMS_JWKS_URL:-http://127.0.0.1:$HMS_IDENTITY_PORT/.well-known/jwks.json}"
export HMS_IDENTITY_INTERNAL_URL="${HMS_IDENTITY_INTERNAL_URL:-http://127.0.0.1:$HMS_IDENTITY_PORT}"

# The key that encrypts identity's private signing keys at rest. Generated once per checkout and kept
# in the ignored .local folder, so restarts keep verifying tokens signed before them.
hms_local_secret() {
  local file="$HMS_ROOT/.local/secrets/$1"
  if [ ! -s "$file" ]; then
    mkdir -p "$(dirname "$file")"
    (umask 077 && node -e 'process.stdout.write(require("crypto").randomBytes(32).toString("base64"))' >"$file")
  fi
  cat "$file"
}
export HMS_IDENTITY_KEY_ENCRYPTION_KEY="${HMS_IDENTITY_KEY_ENCRYPTION_KEY:-$(hms_local_secret identity-key-encryption-key)}"

# Prints the PostgreSQL URL of a service's role ("app", "owner" or "relay") in the local database.
hms_database_url() {
  echo "postgres://hms_$1_$2@$HMS_PG_HOST:$HMS_PG_PORT/$HMS_DATABASE_NAME"
}

# Installs the npm dependencies when node_modules is missing or older than the lockfile.
hms_ensure_dependencies() {
  local stamp="$HMS_ROOT/node_modules/.hms-installed"
  if [ ! -f "$stamp" ] || [ "$HMS_ROOT/package-lock.json" -nt "$stamp" ]; then
    echo "Installing npm dependencies (npm ci)..."
    (cd "$HMS_ROOT" && npm ci --no-audit --no-fund --loglevel=error) || return 1
    touch "$stamp"
  fi
}

# A throwaway PostgreSQL on loopback for the tests; sourced by .ci/run (and usable by hand:
# `. .ci/postgres.sh && start_postgres`). Exports DATABASE_URL_TEST for the PostgreSQL suite.
PG_BIN=${PG_BIN:-$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)}
PG_DIR=${PG_DIR:-$(mktemp -d /tmp/cart-recovery-pg.XXXXXX)}
PG_PORT=${PG_PORT:-55432}

start_postgres() {
  local run_as=()
  if [ "$(id -u)" -eq 0 ]; then
    # initdb refuses to run as root: hand the folder to the postgres system user.
    chown -R postgres "$PG_DIR"
    run_as=(runuser -u postgres --)
  fi
  "${run_as[@]}" "$PG_BIN/initdb" -D "$PG_DIR/data" -U postgres -A trust >/dev/null
  "${run_as[@]}" "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -o "-p $PG_PORT -k $PG_DIR -c listen_addresses=127.0.0.1" -l "$PG_DIR/log" -w start >/dev/null
  export DATABASE_URL_TEST="postgres://postgres@127.0.0.1:$PG_PORT/postgres"
  echo "PostgreSQL on $DATABASE_URL_TEST"
}

stop_postgres() {
  local run_as=()
  [ "$(id -u)" -eq 0 ] && run_as=(runuser -u postgres --)
  "${run_as[@]}" "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -m fast -w stop >/dev/null 2>&1 || true
  rm -rf "$PG_DIR"
}

#!/bin/sh
# Starts pgBouncer for pooltune's pgbouncer target. $1: the rendered pgbouncer.ini.
# - pgBouncer logs in to PostgreSQL with the password in its auth file, which the harness knows only as
#   part of a URL (PGBOUNCER_SERVER_URL=postgres://user:password@host:port/db): write "$1.users" from it.
# - pgBouncer refuses to run as root: as root, it reads its files first and then becomes the postgres
#   user (as pooltune's PostgreSQL does; nobody where there is none), which then owns the files.
# - exec: pgBouncer itself is the process the harness signals and waits for.
set -eu
ini=$1
url=${PGBOUNCER_SERVER_URL:?PGBOUNCER_SERVER_URL must be set}
credentials=${url#*://}
credentials=${credentials%%@*}
user=${credentials%%:*}
password=${credentials#*:}
case "$credentials" in
*%* | *'"'*)
  echo "start-pgbouncer: percent-escaped or quoted credentials in PGBOUNCER_SERVER_URL are not supported" >&2
  exit 2
  ;;
esac
umask 077
printf '"%s" "%s"\n' "$user" "$password" >"$ini.users"
# Debian installs pgbouncer in /usr/sbin, which a non-root PATH often lacks.
PATH=$PATH:/usr/sbin:/sbin
export PATH
if [ "$(id -u)" -ne 0 ]; then
  exec pgbouncer "$ini"
fi
if id postgres >/dev/null 2>&1; then runas=postgres; else runas=nobody; fi
chown "$runas" "$ini" "$ini.users"
exec pgbouncer -u "$runas" "$ini"

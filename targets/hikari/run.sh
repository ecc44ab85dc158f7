#!/bin/sh
# Starts the hikari target's Java service. $1: the rendered hikari.properties.
# - The jars come from Debian's packages (there is no Maven registry here): HikariCP (libhikaricp-java),
#   the PostgreSQL JDBC driver (libpostgresql-jdbc-java) and slf4j (libslf4j-java, which HikariCP's
#   package depends on). A missing one ends the start here, naming the package. HIKARI_JAR_DIR overrides
#   where they are looked for.
# - The sources are compiled with javac into the folder of $1 (the service's temp dir); a restart with other
#   knob values reuses the classes unless a source changed since.
# - exec: the JVM itself is the process the harness signals and waits for.
set -eu
config=${1:?usage: run.sh <hikari.properties>}
here=$(cd "$(dirname "$0")" && pwd)
jars=${HIKARI_JAR_DIR:-/usr/share/java}

missing=''
for entry in HikariCP.jar:libhikaricp-java postgresql.jar:libpostgresql-jdbc-java slf4j-api.jar:libslf4j-java; do
  if [ ! -f "$jars/${entry%%:*}" ]; then missing="$missing ${entry#*:}"; fi
done
if [ -n "$missing" ]; then
  echo "hikari target: the jars of Debian's$missing not found in $jars: apt-get install$missing" >&2
  exit 2
fi
classpath=$jars/HikariCP.jar:$jars/postgresql.jar:$jars/slf4j-api.jar
# slf4j-simple (also in libslf4j-java) prints HikariCP's start-up line and warnings (e.g. a setting it
# replaced) to stderr; without it slf4j falls back to its no-op logger and says so once.
if [ -f "$jars/slf4j-simple.jar" ]; then classpath=$classpath:$jars/slf4j-simple.jar; fi

classes=$(dirname "$config")/classes
stale=0
if [ ! -f "$classes/HikariService.class" ]; then stale=1; fi
for source in "$here"/*.java; do
  if [ "$source" -nt "$classes/HikariService.class" ]; then stale=1; fi
done
if [ "$stale" = 1 ]; then
  # Compiled beside, then moved in: a start killed mid-compile leaves no half-written classes behind.
  # C1 only: javac runs once per start, too briefly for the optimising compiler to pay.
  rm -rf "$classes.new"
  javac -J-XX:TieredStopAtLevel=1 -J-XX:+UseSerialGC -cp "$classpath" -d "$classes.new" "$here"/*.java
  rm -rf "$classes"
  mv "$classes.new" "$classes"
fi

# - nodelay: the JDK server writes headers and body separately; with Nagle on, keep-alive clients wait for
#   delayed ACKs (~40 ms per response).
# - C1 only: the harness restarts the JVM at every knob change, and C2's compile threads would take most
#   of a core for many seconds after each start, on a 2-core box shared with PostgreSQL and the load
#   generator; C1 warms up within the service's own warm-up and serves this I/O-bound API about as fast.
# - A small heap, for the same neighbours. JAVA_OPTS comes last, so it overrides any of these.
# shellcheck disable=SC2086 # JAVA_OPTS is a list of options
exec java -Dsun.net.httpserver.nodelay=true -XX:TieredStopAtLevel=1 -Xms64m -Xmx256m -XX:+ExitOnOutOfMemoryError \
  ${JAVA_OPTS:-} \
  -cp "$classes:$classpath" HikariService "$config"

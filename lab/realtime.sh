#!/usr/bin/env bash
# A lab whose PJSIP contacts live in SQL (sorcery realtime), as on clustered or multi-tenant PBXes:
# sorcery.conf [res_pjsip] contact=realtime,ps_contacts. It runs beside the astdb lab, under its own
# LAB_PREFIX and ports, with the same Asterisk (AST_PREFIX) as long as that has the database's module:
#   REALTIME_DB=pgsql (default): PostgreSQL through res_config_pgsql.
#     LAB_PREFIX=~/.pjctl-lab-rt LAB_SIP_PORT=5360 LAB_AMI_PORT=5338 ./realtime.sh
#   REALTIME_DB=mysql: MariaDB through res_config_mysql.
#     REALTIME_DB=mysql LAB_PREFIX=~/.pjctl-lab-my LAB_SIP_PORT=5560 LAB_AMI_PORT=5538 ./realtime.sh
# Run as root. It installs and starts the database server (Debian's postgresql or mariadb-server) if needed,
# creates the user and database `asterisk` (password `asterisk`) with Asterisk's own schema, writes the
# connection file (res_pgsql.conf or res_config_mysql.conf), extconfig.conf and sorcery.conf into
# $LAB_PREFIX/etc-realtime, and starts the lab with them. Contacts then appear as rows of table
# ps_contacts, not in astdb:
#   PGPASSWORD=asterisk psql -h 127.0.0.1 -U asterisk asterisk        (pgsql)
#   mysql -h 127.0.0.1 -u asterisk -pasterisk asterisk                 (mysql)
# The schema is Asterisk's contrib/realtime/<db>/<db>_config.sql: REALTIME_SCHEMA=FILE, or found under
# ASTERISK_SRC (an Asterisk source tree of the installed version), $LAB_PREFIX/build/asterisk-*,
# or $AST_PREFIX/share/doc/asterisk*.
set -euo pipefail
. "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/lab-env.sh"
lab_close_inherited_fds
DB="${REALTIME_DB:-pgsql}"
DB_NAME="${DB_NAME:-asterisk}"; DB_USER="${DB_USER:-asterisk}"; DB_PASS="${DB_PASS:-asterisk}"
log() { echo "[realtime] $*" >&2; }
apt_install() { log "apt-get install $*"; apt-get update -qq; DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "$@" >/dev/null; }
schema_of() {
  local f
  if [ -n "${REALTIME_SCHEMA:-}" ]; then echo "$REALTIME_SCHEMA"; return; fi
  for f in ${ASTERISK_SRC:+"$ASTERISK_SRC"/contrib/realtime/"$1"/"$1"_config.sql} \
           "$LAB_PREFIX"/build/asterisk-*/contrib/realtime/"$1"/"$1"_config.sql \
           "$AST_PREFIX"/share/doc/asterisk*/contrib/realtime/"$1"/"$1"_config.sql \
           "$AST_PREFIX"/share/doc/asterisk*/"$1"_config.sql; do
    [ -f "$f" ] && { echo "$f"; return; }
  done
  echo "Asterisk's $1 schema ($1_config.sql) not found: set REALTIME_SCHEMA=FILE or ASTERISK_SRC=<source tree>" >&2
  exit 1
}
extra="$LAB_PREFIX/etc-realtime"; mkdir -p "$extra"

case "$DB" in
pgsql)
  module=res_config_pgsql
  [ -f "$AST_MODDIR/$module.so" ] || {
    echo "no $module.so in $AST_MODDIR: this Asterisk was built without PostgreSQL (libpq-dev) support" >&2; exit 1; }
  command -v pg_ctlcluster >/dev/null || apt_install postgresql
  ver="$(ls /etc/postgresql | sort -n | tail -1)"
  pg_ctlcluster "$ver" main status >/dev/null 2>&1 || { log "starting PostgreSQL $ver"; pg_ctlcluster "$ver" main start; }
  psql_su() { su postgres -c "psql -v ON_ERROR_STOP=1 -qAt $*"; }
  [ "$(psql_su "-c \"select 1 from pg_roles where rolname='$DB_USER'\"")" = 1 ] \
    || psql_su "-c \"create role $DB_USER login password '$DB_PASS'\""
  [ "$(psql_su "-c \"select 1 from pg_database where datname='$DB_NAME'\"")" = 1 ] \
    || psql_su "-c \"create database $DB_NAME owner $DB_USER\""
  export PGPASSWORD="$DB_PASS"
  if ! psql -h 127.0.0.1 -U "$DB_USER" -qAt -c "select 1 from ps_contacts limit 1" "$DB_NAME" >/dev/null 2>&1; then
    schema="$(schema_of postgresql)"
    log "loading $schema"
    psql -h 127.0.0.1 -U "$DB_USER" -q -v ON_ERROR_STOP=1 -f "$schema" "$DB_NAME" >/dev/null
  fi
  rm -f "$extra/res_config_mysql.conf"
  cat >"$extra/res_pgsql.conf" <<CONF
[general]
dbhost=127.0.0.1
dbport=5432
dbname=$DB_NAME
dbuser=$DB_USER
dbpass=$DB_PASS
requirements=warn
CONF
  ;;
mysql)
  module=res_config_mysql
  [ -f "$AST_MODDIR/$module.so" ] || {
    echo "no $module.so in $AST_MODDIR: this Asterisk was built without MySQL/MariaDB (libmariadb-dev) support" >&2; exit 1; }
  command -v mariadbd >/dev/null || command -v mysqld >/dev/null || apt_install mariadb-server
  mysqladmin ping >/dev/null 2>&1 || { log "starting MariaDB"; service mariadb start >/dev/null; }
  for _ in $(seq 1 30); do mysqladmin ping >/dev/null 2>&1 && break; sleep 0.5; done
  mysql -e "CREATE DATABASE IF NOT EXISTS $DB_NAME;
            CREATE USER IF NOT EXISTS '$DB_USER'@'127.0.0.1' IDENTIFIED BY '$DB_PASS';
            CREATE USER IF NOT EXISTS '$DB_USER'@'localhost' IDENTIFIED BY '$DB_PASS';
            GRANT ALL ON $DB_NAME.* TO '$DB_USER'@'127.0.0.1'; GRANT ALL ON $DB_NAME.* TO '$DB_USER'@'localhost';"
  if ! mysql -h 127.0.0.1 -u "$DB_USER" -p"$DB_PASS" -e "select 1 from ps_contacts limit 1" "$DB_NAME" >/dev/null 2>&1; then
    schema="$(schema_of mysql)"
    log "loading $schema"
    mysql -h 127.0.0.1 -u "$DB_USER" -p"$DB_PASS" "$DB_NAME" <"$schema"
  fi
  rm -f "$extra/res_pgsql.conf"
  cat >"$extra/res_config_mysql.conf" <<CONF
[general]
dbhost=127.0.0.1
dbport=3306
dbname=$DB_NAME
dbuser=$DB_USER
dbpass=$DB_PASS
requirements=warn
CONF
  ;;
*) echo "REALTIME_DB must be pgsql or mysql, not '$DB'" >&2; exit 2 ;;
esac

cat >"$extra/extconfig.conf" <<CONF
[settings]
ps_contacts => $DB,general
CONF
cat >"$extra/sorcery.conf" <<CONF
[res_pjsip]
contact=realtime,ps_contacts
CONF
LAB_EXTRA_ETC="$extra" "$LAB_DIR/start.sh"
lab_cli module show like "$module.so" | grep -q "Running" || { echo "$module.so is not running; see $LAB_LOG/messages.log" >&2; exit 1; }
log "contacts go to table ps_contacts ($DB: $DB_USER@127.0.0.1/$DB_NAME)"

#!/usr/bin/env bash
# (Re)start the lab Asterisk: copy etc/ into $LAB_PREFIX/etc (placeholders filled in),
# start Asterisk ($AST_PREFIX, see lab-env.sh) in the background, wait for `core waitfullybooted` and for the AMI
# port, print the pid.
#   LAB_PREFIX   (default $HOME/.pjctl-lab)   LAB_SIP_PORT (5060)   LAB_AMI_PORT (5038)
#   LAB_CLEAN_DB=1   remove the astdb before starting (no contacts, no other keys)
#   LAB_EXTRA_ETC    a folder whose *.conf are copied last, as they are (realtime.sh uses it)
#   LAB_SYSTEM_NAME  asterisk.conf systemname (a cluster node's name; see README.md, A cluster)
#   START_TIMEOUT    seconds to wait (default 60)
set -euo pipefail
. "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/lab-env.sh"
lab_close_inherited_fds
START_TIMEOUT="${START_TIMEOUT:-60}"

[ -x "$ASTERISK_BIN" ] || {
  echo "no Asterisk at $ASTERISK_BIN: install Asterisk and set AST_PREFIX to its prefix (see README.md here)" >&2; exit 1; }
[ -d "$AST_MODDIR" ] || { echo "no Asterisk modules at $AST_MODDIR: set AST_MODDIR (see README.md here)" >&2; exit 1; }

if lab_pid >/dev/null; then
  echo "lab already running (pid $(lab_pid)); restarting" >&2
  "$LAB_DIR/stop.sh"
fi

# another process on our ports would answer in our place (the new Asterisk could not bind them)
if command -v ss >/dev/null 2>&1; then
  busy="$(ss -Hltnup 2>/dev/null | awk -v a=":$LAB_AMI_PORT" -v s=":$LAB_SIP_PORT" '($5 ~ a"$" && $1 == "tcp") || ($5 ~ s"$" && $1 == "udp")' | head -2)"
  if [ -n "$busy" ]; then
    echo "ports $LAB_AMI_PORT/tcp or $LAB_SIP_PORT/udp are in use:" >&2
    printf '%s\n' "$busy" >&2
    exit 1
  fi
fi

mkdir -p "$LAB_ETC" "$LAB_VARLIB" "$LAB_SPOOL" "$LAB_RUN" "$LAB_LOG"
# fresh copy of the configuration
find "$LAB_ETC" -maxdepth 1 -type f -name '*.conf' -delete
for f in "$LAB_DIR"/etc/*.conf; do
  sed -e "s|@LAB_PREFIX@|$LAB_PREFIX|g" \
      -e "s|@AST_PREFIX@|$AST_PREFIX|g" \
      -e "s|@AST_MODDIR@|$AST_MODDIR|g" \
      -e "s|@AST_DATADIR@|$AST_DATADIR|g" \
      -e "s|@LAB_ETC@|$LAB_ETC|g" \
      -e "s|@LAB_SIP_PORT@|$LAB_SIP_PORT|g" \
      -e "s|@LAB_AMI_PORT@|$LAB_AMI_PORT|g" \
      "$f" > "$LAB_ETC/$(basename "$f")"
done
if [ -n "${LAB_EXTRA_ETC:-}" ]; then
  for f in "$LAB_EXTRA_ETC"/*.conf; do [ -f "$f" ] && cp "$f" "$LAB_ETC/"; done
fi
# a cluster node's name: Asterisk stores it in each contact's reg_server and in ContactStatus events' SystemName
if [ -n "${LAB_SYSTEM_NAME:-}" ]; then
  sed -i "s/^\[options\]$/[options]\nsystemname = $LAB_SYSTEM_NAME/" "$LAB_ETC/asterisk.conf"
fi

if [ "${LAB_CLEAN_DB:-0}" = 1 ]; then
  rm -f "$LAB_ASTDB" "$LAB_ASTDB-journal" "$LAB_ASTDB-wal" "$LAB_ASTDB-shm"
fi
rm -f "$LAB_PIDFILE" "$LAB_RUN/asterisk.ctl"

# -f: do not fork, so $! is Asterisk itself; setsid: own session, survives this shell.
setsid "$ASTERISK_BIN" -f -n -C "$LAB_CONF" </dev/null >>"$LAB_LOG/asterisk.stdout" 2>&1 &
pid=$!
echo "$pid" > "$LAB_PIDFILE"

deadline=$(( $(date +%s) + START_TIMEOUT ))
until "$ASTERISK_BIN" -C "$LAB_CONF" -rx "core waitfullybooted" >/dev/null 2>&1; do
  if ! kill -0 "$pid" 2>/dev/null; then
    echo "Asterisk exited during start; last log lines:" >&2
    tail -20 "$LAB_LOG/asterisk.stdout" "$LAB_LOG/messages.log" 2>/dev/null >&2 || true
    rm -f "$LAB_PIDFILE"; exit 1
  fi
  [ "$(date +%s)" -lt "$deadline" ] || { echo "timed out waiting for core waitfullybooted" >&2; exit 1; }
  sleep 0.5
done

# the modules the lab is about must have loaded (waitfullybooted succeeds regardless)
for m in res_pjsip res_pjsip_registrar res_pjsip_authenticator_digest \
         res_pjsip_endpoint_identifier_user res_pjsip_config_wizard res_sorcery_astdb chan_pjsip; do
  out="$("$ASTERISK_BIN" -C "$LAB_CONF" -rx "module show like $m.so" 2>&1 || true)"
  if ! printf '%s\n' "$out" | grep "^$m.so .*Running" >/dev/null; then
    echo "module $m.so is not running; see $LAB_LOG/messages.log" >&2
    exit 1
  fi
done

# AMI answers with its banner line
until python3 - "$LAB_AMI_HOST" "$LAB_AMI_PORT" <<'PY' 2>/dev/null
import socket, sys
s = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=2)
banner = s.recv(200)
s.close()
sys.exit(0 if banner.startswith(b"Asterisk Call Manager") else 1)
PY
do
  [ "$(date +%s)" -lt "$deadline" ] || { echo "timed out waiting for AMI on $LAB_AMI_HOST:$LAB_AMI_PORT" >&2; exit 1; }
  sleep 0.5
done

echo "$pid"

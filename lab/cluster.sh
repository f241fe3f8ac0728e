#!/usr/bin/env bash
# A cluster of two Asterisk nodes, pbxA and pbxB, sharing one realtime PostgreSQL ps_contacts table,
# as big PBXes run behind a SIP proxy or DNS. Each node is a realtime lab (realtime.sh) under its own
# LAB_PREFIX and ports, with its own systemname (LAB_SYSTEM_NAME), which Asterisk writes into every
# contact it registers (reg_server) and into its ContactStatus events (SystemName:).
#   lab/cluster.sh start     start both nodes (run as root; the same Asterisk through AST_PREFIX)
#   lab/cluster.sh stop      stop both nodes (only the pids their start.sh started)
#   lab/cluster.sh status    which node is up
#   lab/cluster.sh env NODE  the LAB_* variables of node A or B, for eval (register.sh, cli.sh)
# Defaults (override with the variables on the left):
#   CLUSTER_DB=asterisk_cluster  the database both nodes share (its own, so no other lab's contacts)
#   pbxA: CLUSTER_A_PREFIX=~/.pjctl-lab-cluster-a  CLUSTER_A_SIP=6160  CLUSTER_A_AMI=6138
#   pbxB: CLUSTER_B_PREFIX=~/.pjctl-lab-cluster-b  CLUSTER_B_SIP=6260  CLUSTER_B_AMI=6238
# Lock: anything that touches this cluster holds /tmp/pjctl-lab-cluster.lock; this script takes it itself
# (flock -n: it says so and exits 75 when someone else holds it).
set -euo pipefail
LAB_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
export AST_PREFIX="${AST_PREFIX:-$HOME/.pjctl-lab/asterisk}"
export DB_NAME="${CLUSTER_DB:-asterisk_cluster}"
# Asterisk's schema: the build tree beside AST_PREFIX (realtime.sh looks under each node's own LAB_PREFIX)
if [ -z "${REALTIME_SCHEMA:-}" ] && [ -z "${ASTERISK_SRC:-}" ]; then
  for f in "$(dirname "$AST_PREFIX")"/build/asterisk-*/contrib/realtime/postgresql/postgresql_config.sql; do
    [ -f "$f" ] && export REALTIME_SCHEMA="$f"
  done
fi
LOCK="${CLUSTER_LOCK:-/tmp/pjctl-lab-cluster.lock}"
A_PREFIX="${CLUSTER_A_PREFIX:-$HOME/.pjctl-lab-cluster-a}"; A_SIP="${CLUSTER_A_SIP:-6160}"; A_AMI="${CLUSTER_A_AMI:-6138}"
B_PREFIX="${CLUSTER_B_PREFIX:-$HOME/.pjctl-lab-cluster-b}"; B_SIP="${CLUSTER_B_SIP:-6260}"; B_AMI="${CLUSTER_B_AMI:-6238}"

node_env() {
  case "$1" in
  A | a | pbxA) echo "LAB_SYSTEM_NAME=pbxA LAB_PREFIX=$A_PREFIX LAB_SIP_PORT=$A_SIP LAB_AMI_PORT=$A_AMI" ;;
  B | b | pbxB) echo "LAB_SYSTEM_NAME=pbxB LAB_PREFIX=$B_PREFIX LAB_SIP_PORT=$B_SIP LAB_AMI_PORT=$B_AMI" ;;
  *) echo "no node '$1' (A or B)" >&2; exit 2 ;;
  esac
}
on_node() { local node="$1"; shift; env $(node_env "$node") "$@"; }
locked() {
  exec 9>"$LOCK"
  flock -n 9 || { echo "the cluster lab is in use ($LOCK is held)" >&2; exit 75; }
}

case "${1:-}" in
start)
  locked
  # the daemons must not inherit the lock's descriptor (lab_close_inherited_fds in realtime.sh closes it)
  on_node A "$LAB_DIR/realtime.sh"
  on_node B "$LAB_DIR/realtime.sh"
  echo "cluster up: pbxA SIP $A_SIP AMI $A_AMI, pbxB SIP $B_SIP AMI $B_AMI, table ps_contacts of database $DB_NAME" >&2
  ;;
stop)
  locked
  on_node A "$LAB_DIR/stop.sh" || true
  on_node B "$LAB_DIR/stop.sh" || true
  ;;
status)
  for n in A B; do
    if on_node "$n" bash -c ". '$LAB_DIR/lab-env.sh'; lab_pid" >/dev/null; then echo "pbx$n up"; else echo "pbx$n down"; fi
  done
  ;;
env) node_env "${2:?node A or B}" ;;
*) sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//'; exit 2 ;;
esac

#!/usr/bin/env bash
# npm run build first; run under the lab lock: flock /tmp/pjctl-lab.lock bench/refusals.sh (RATE=200 N=12000 by default).
# 5k AORs / 15k contacts (bulk_aors.sh, seed_contacts.py), then N REGISTERs refused for max_contacts at RATE a second (sipp,
# loopback): exporter scrape times, the exporter's counter and watch's records against the 403s on the wire, and the AMI
# event rate with the Filter (the exporter) and without (a raw session). Leaves no contact and no bulk AOR behind.
set -u
export LAB_PREFIX=${LAB_PREFIX:-$HOME/.pjctl-lab} LAB_SIP_PORT=${LAB_SIP_PORT:-5060} LAB_AMI_PORT=${LAB_AMI_PORT:-5038}
P=$(cd "$(dirname "$0")/.." && pwd); L=${LAB_DIR:-$P/lab}; B=${OUT:-$(mktemp -d)}
export PJCTL_HOST=127.0.0.1 PJCTL_PORT=$LAB_AMI_PORT PJCTL_USER=pjctl PJCTL_SECRET=pjctl-secret
RATE=${RATE:-200}; N=${N:-12000}
cd $L
./bulk_aors.sh 5000 >/dev/null 2>&1
./seed_contacts.py 127.0.0.1:$LAB_AMI_PORT pjctl pjctl-secret 15000 5000 >/dev/null 2>&1
./register.sh FAP003 FAP003-pass 45071 >/dev/null; ./register.sh FAP003 FAP003-pass 45072 >/dev/null
node $P/bin/pjctl.js exporter --listen 127.0.0.1:9899 2>$B/exporter.err & EXP=$!
for i in $(seq 1 120); do curl -s 127.0.0.1:9899/metrics | grep -q '^pjctl_server_up{server="127.0.0.1:$LAB_AMI_PORT"} 1' && break; sleep 0.5; done
node $P/bin/pjctl.js watch --json >$B/watch.jsonl 2>$B/watch.err & W=$!
sleep 2
# a raw AMI session without any Filter, counting every event it gets during the run
python3 -u - >$B/raw.txt <<'PY' &
import socket,time
s=socket.create_connection(("127.0.0.1",int(__import__("os").environ["LAB_AMI_PORT"]))); s.recv(100)
s.sendall(b"Action: Login\r\nUsername: pjctl\r\nSecret: pjctl-secret\r\n\r\n")
end=time.time()+float(__import__("os").environ.get("RAWSECS","75")); buf=b""; s.settimeout(1)
while time.time()<end:
    try: d=s.recv(65536)
    except socket.timeout: continue
    if not d: break
    buf+=d
import collections
c=collections.Counter(l.split(b": ",1)[1].decode() for l in buf.split(b"\r\n") if l.startswith(b"Event: "))
print(sum(c.values()), dict(c))
PY
RAW=$!
before=$(curl -s 127.0.0.1:9899/metrics | grep '^pjctl_registrations_rejected_total{.*reason="max_contacts"}' | awk '{print $2}'); before=${before:-0}
evbefore=$(curl -s 127.0.0.1:9899/metrics | grep '^pjctl_events_received_total' | awk '{s+=$2} END {print s+0}')
for i in 1 2 3 4 5; do curl -s -o /dev/null -w '%{time_total}\n' 127.0.0.1:9899/metrics; sleep 0.3; done >$B/idle-scrapes.txt
( while kill -0 $EXP 2>/dev/null; do curl -s -o /dev/null -w '%{time_total}\n' 127.0.0.1:9899/metrics; sleep 0.5; done ) >$B/scrapes.txt & SCR=$!
rm -rf $B/sipp && mkdir $B/sipp && cd $B/sipp
start=$(date +%s.%N)
timeout 120 sipp 127.0.0.1:$LAB_SIP_PORT -sf $L/sipp/register.xml -key user FAP003 -key expires 3600 -key cparams "" -key ua bench -au FAP003 -ap FAP003-pass -r $RATE -m $N -l 400 -i 127.0.0.1 -p 45500 -nostdin -trace_screen -screen_file screen.txt >/dev/null 2>&1
end=$(date +%s.%N)
sleep 3
kill $SCR
after=$(curl -s 127.0.0.1:9899/metrics | grep '^pjctl_registrations_rejected_total{.*reason="max_contacts"}' | awk '{print $2}')
evafter=$(curl -s 127.0.0.1:9899/metrics | grep '^pjctl_events_received_total' | awk '{s+=$2} END {print s+0}')
wire403=$(awk '/403 <-/ {s+=$3} END {print s}' screen.txt)
echo "sipp: $N REGISTERs at $RATE/s in $(echo "$end - $start" | bc) s; 403 on the wire: $wire403"
echo "exporter counter max_contacts: $before -> $after (delta $((${after%.*} - ${before%.*})))"
echo "watch lines max_contacts: $(grep -c '"max_contacts"' $B/watch.jsonl)"
echo "exporter events received during the run (filtered): $((${evafter%.*} - ${evbefore%.*}))"
wait $RAW; echo "raw session without Filter, events: $(cat $B/raw.txt)"
echo "idle scrapes (s): $(tr '\n' ' ' < $B/idle-scrapes.txt)"
sort -n $B/scrapes.txt | awk '{a[NR]=$1*1000} END {print "scrapes during the run:", NR, "median", a[int(NR/2)+1], "ms p95", a[int(NR*0.95)], "ms max", a[NR], "ms"}'
kill -TERM $W; wait $W; echo "watch exit $?"
kill -TERM $EXP; wait $EXP; echo "exporter exit $?"
cd $L; ./cli.sh database deltree registrar/contact >/dev/null; ./bulk_aors.sh 0 >/dev/null 2>&1

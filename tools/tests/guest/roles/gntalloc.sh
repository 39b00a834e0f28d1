# SPDX-License-Identifier: GPL-2.0
# domU role of the gntalloc suite: user space of this domU shares pages with
# dom0 through Xen's own libraries. Reports on the console.
# 1. libxengnttab: xgshr shares, dom0's xgmap maps (see xgshr.c).
# 2. libxenvchan: a vchan server (vchan-socket-proxy -m server, which
#    allocates its rings with gntalloc) carries 16 MiB each way between
#    vchanpeer here and one in dom0.
# 3. The server is killed with SIGKILL in the middle of a second transfer;
#    once dom0 has let go, every grant is reclaimed and no memory is lost.
S=/sys/module/grant_table/stats
stat_of() { cat $S/$1 2>/dev/null || echo -1; }

xgshr -n 16 -t 300

me=$(xenstore-read domid)
path=/local/domain/$me/data/vchan
rm -f /tmp/v.sock
vchanpeer listen /tmp/v.sock -n 16M -s 11 -r 22 -w > /tmp/vp1.out 2>&1 &
vp=$!
while [ ! -S /tmp/v.sock ]; do sleep 0.1; done
vchan-socket-proxy -m server 0 $path /tmp/v.sock > /tmp/proxy.log 2>&1 &
echo $! > /tmp/proxy.pid
while ! xenstore-exists $path/ring-ref 2>/dev/null; do sleep 0.1; done
echo "XENRIG-VCHAN server-up $path"
wait $vp
echo "XENRIG-VCHAN transfer1 $(cat /tmp/vp1.out)"

pend0=$(stat_of pending) def0=$(stat_of deferred) rec0=$(stat_of reclaimed)
free0=$(freemem)
# The first peer's socket file is still there: wait for the new one.
rm -f /tmp/v.sock
vchanpeer listen /tmp/v.sock -n 256M -s 33 -r 44 -K 8M -k /tmp/proxy.pid \
	> /tmp/vp2.out 2>&1 &
vp=$!
while [ ! -S /tmp/v.sock ]; do sleep 0.1; done
echo "XENRIG-VCHAN listening2"
wait $vp
echo "XENRIG-VCHAN transfer2 $(cat /tmp/vp2.out)"
n=0
while [ "$(stat_of pending)" != "$pend0" ] && [ $n -lt 600 ]; do
	sleep 0.2
	n=$((n + 1))
done
sleep 1
echo "XENRIG-VCHAN reclaimed $(stat_of pending) $(($(stat_of deferred) - def0))" \
	"$(($(stat_of reclaimed) - rec0)) $(stat_of leaked) $(($(freemem) - free0))"
cat /tmp/proxy.log
echo "XENRIG-VCHAN done"

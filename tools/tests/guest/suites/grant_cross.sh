# SPDX-License-Identifier: GPL-2.0
# Grants across domains: a PV domU shares 256 pages with dom0 through
# gntalloc (gntshare), dom0 maps them with gntdev (gntpeer):
# - what the domU wrote, dom0 reads, and what dom0 writes, the domU reads;
# - the domU closes its side first while dom0 still maps every page: the
#   domU's grant table defers all of them, and while the domU fills 96 MiB
#   of fresh memory dom0 keeps rewriting and checking its pattern, which
#   stays intact (no deferred page is handed to anyone else);
# - dom0 unmaps: in the domU every deferred entry is reclaimed, the totals
#   balance, nothing is leaked and free memory comes back; the domU
#   then shuts down cleanly.
# The domU runs the same kernel variant as dom0. Its Rust-only stats/ files
# are checked when present.

N=256
toolstack_up || fail cross-toolstack "toolstack did not start"
cat > /etc/xen/gx.cfg <<EOC
name = "gx"
type = "pv"
kernel = "/guest/bzImage"
ramdisk = "/guest/initrd.gz"
extra = "console=hvc0 xenrig.role=gntshare"
memory = 256
vcpus = 1
on_poweroff = "destroy"
on_crash = "destroy"
EOC
log=/var/log/xen/console/guest-gx.log
: > $log
get() { sed -n "s/.*XENRIG-GNTSHARE $1 \([^ ]*\).*/\1/p" $log | tr -d '\r' | tail -1; }
if xl create /etc/xen/gx.cfg >/tmp/xl-create-gx.log 2>&1 &&
	wait_until 180 grep -q "XENRIG-GNTSHARE ready" $log; then
	pass cross-domu-shares-pages
else
	fail cross-domu-shares-pages "$(cat /tmp/xl-create-gx.log; grep XENRIG-GNTSHARE $log | tail -3)"
fi
sed -n 's/.*XENRIG-GNTSHARE refs //p' $log | tr -d '\r' > /tmp/gx-refs
expect cross-refs-published "$(wc -w < /tmp/gx-refs)" $N

rm -f /tmp/peer-in
mkfifo /tmp/peer-in
gntpeer -d "$(xl domid gx)" -f /tmp/gx-refs < /tmp/peer-in > /tmp/peer.out 2>&1 &
PEER=$!
exec 7> /tmp/peer-in
wait_until 60 grep -q "^mapped" /tmp/peer.out
sed 's/^/cross: gntpeer: /' /tmp/peer.out
expect cross-dom0-reads-domu-writes "$(sed -n 's/^sharer_pattern=//p' /tmp/peer.out)" ok
wait_until 60 grep -q "XENRIG-GNTSHARE peer_writes" $log
expect cross-domu-reads-dom0-writes "$(get peer_writes)" ok

# The domU closes first; dom0 keeps writing and checking while it hogs memory.
wait_until 60 grep -q "XENRIG-GNTSHARE pending_deferred" $log
[ "$(get pending_deferred)" != -1 ] &&
	expect cross-domu-defers-every-grant "$(get pending_deferred)" $N
checks=0
while ! grep -q "XENRIG-GNTSHARE hogged" $log && [ $checks -lt 600 ]; do
	echo check >&7
	checks=$((checks + 1))
	sleep 0.1
done
echo check >&7
sleep 1
echo "cross: $checks checks while the domU held the grants deferred"
expect cross-domu-hogged "$(get hogged)" 96
expect cross-pages-not-reused-while-mapped \
	"$(grep -c '^check=ok' /tmp/peer.out) $(grep -c '^check=bad' /tmp/peer.out)" "$((checks + 1)) 0"
echo unmap >&7
exec 7>&-
wait $PEER
expect cross-dom0-unmaps "$(tail -1 /tmp/peer.out)" unmapped

wait_until 300 grep -q "XENRIG-GNTSHARE done" $log
grep XENRIG-GNTSHARE $log | grep -v " refs " | tr -d '\r' | sed 's/^/cross: /'
if [ "$(get pending_after)" != -1 ]; then
	expect cross-domu-reclaims-every-entry \
		"$(get pending_after) $(get deferred_delta) $(get reclaimed_delta) $(get leaked)" \
		"0 $N $N 0"
fi
# 256 pages are 1 MiB: the domU's free memory came back within 512 KiB.
u=$(get free_delta_kb)
[ -n "$u" ] && [ "$u" -gt -512 ] && pass cross-domu-no-page-leaked ||
	fail cross-domu-no-page-leaked "free memory changed by ${u:-?} KiB"
xl shutdown -w gx >/tmp/xl-shutdown-gx.log 2>&1
gone() { ! xl list gx >/dev/null 2>&1; }
if wait_until 120 gone; then pass cross-domu-shuts-down-cleanly; else
	fail cross-domu-shuts-down-cleanly "$(cat /tmp/xl-shutdown-gx.log)"; xl destroy gx; fi

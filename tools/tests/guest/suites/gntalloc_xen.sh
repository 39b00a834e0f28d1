# SPDX-License-Identifier: GPL-2.0
# /dev/xen/gntalloc with real clients across domains. A PV domU (same
# variant) runs roles/gntalloc.sh:
# - libxengnttab: the domU shares 16 pages with xengntshr_share_pages and
#   one with xengntshr_share_page_notify, dom0 maps them with
#   xengnttab_map_domain_grant_refs; data matches both ways; the domU
#   unshares while dom0 still maps: dom0 sees the event and the cleared
#   byte, the pages keep their data, and after dom0 unmaps every entry is
#   reclaimed in the domU;
# - libxenvchan through Xen's vchan-socket-proxy: server in the domU
#   (gntalloc), client in dom0 (gntdev), 16 MiB each way, every byte
#   checked;
# - the rig keeps each process's vector registers meanwhile (fpcheck);
# - the domU's server is killed with SIGKILL in the middle of a transfer:
#   dom0's side ends, every grant is reclaimed in the domU, no memory lost.

toolstack_up || fail gntalloc-toolstack "toolstack did not start"
log=/var/log/xen/console/guest-ga.log
ga() { sed -n "s/.*$1 \(.*\)/\1/p" $log | tr -d '\r' | tail -1; }
if domu_start ga 256 256 "xenrig.role=gntalloc" &&
	wait_until 180 grep -q "XENRIG-XG ready\|XENRIG-XG error" $log &&
	grep -q "XENRIG-XG ready" $log; then
	pass xg-domu-shares-with-libxengnttab
else
	fail xg-domu-shares-with-libxengnttab "$(grep 'XENRIG-XG\|modprobe' $log | tail -3)"
fi
D=$(xl domid ga)
set -- $(ga "XENRIG-XG notify")
rm -f /tmp/xg-in
mkfifo /tmp/xg-in
xgmap -d "$D" -N "${1:-0}" -p "${2:-0}" $(ga "XENRIG-XG refs") < /tmp/xg-in > /tmp/xgmap.out 2>&1 &
XG=$!
exec 7> /tmp/xg-in
wait_until 60 grep -q "^wrote\|error" /tmp/xgmap.out
sed 's/^/gntalloc: xgmap: /' /tmp/xgmap.out
expect xg-dom0-maps-and-reads-domu-data "$(sed -n 's/^sharer_pattern=//p' /tmp/xgmap.out)" ok
expect xg-dom0-sees-notify-byte "$(sed -n 's/^notify_byte=//p' /tmp/xgmap.out)" 0xaa
wait_until 60 grep -q "XENRIG-XG peer_writes" $log
expect xg-domu-reads-dom0-data "$(ga 'XENRIG-XG peer_writes')" ok
wait_until 150 grep -q "^kept_after_unshare" /tmp/xgmap.out
sed -n '/^event/,$s/^/gntalloc: xgmap: /p' /tmp/xgmap.out
expect xg-unshare-notifies-with-event "$(sed -n 's/^event=//p' /tmp/xgmap.out)" ok
expect xg-unshare-notifies-by-clearing-byte "$(sed -n 's/^clear_byte=//p' /tmp/xgmap.out)" ok
expect xg-unshared-pages-keep-data-while-mapped \
	"$(sed -n 's/^kept_after_unshare=//p' /tmp/xgmap.out)" ok
u=$(sed -n 's/.*XENRIG-XG unshared pending=\([-0-9]*\).*/\1/p' $log | tail -1)
[ "$u" != -1 ] && expect xg-unshare-defers-every-mapped-grant "$u" 17
echo unmap >&7
exec 7>&-
wait $XG
expect xg-dom0-unmaps "$(tail -1 /tmp/xgmap.out)" unmapped
wait_until 120 grep -q "XENRIG-XG done\|XENRIG-XG error" $log
grep "XENRIG-XG" $log | grep -v " refs " | tr -d '\r' | sed 's/^/gntalloc: domU: /'
set -- $(ga "XENRIG-XG reclaimed")
if [ "${1:--1}" != -1 ]; then
	expect xg-every-grant-reclaimed "$1 $2 $3 $4" "0 17 17 0"
fi
[ -n "$5" ] && [ "$5" -gt -512 ] && pass xg-no-page-leaked ||
	fail xg-no-page-leaked "domU free memory changed by ${5:-?} KiB"

# ---- libxenvchan
# The domU starts its server once xgshr is done; a slow domU gets 180 s, and a
# server that never comes up fails this case instead of stalling the boot.
if wait_until 180 grep -q "XENRIG-VCHAN server-up" $log; then
	pass vchan-server-up
else
	fail vchan-server-up "domU: $(tail -3 $log | tr -d '\r' | tr '\n' ' ')"
fi
path=$(ga "XENRIG-VCHAN server-up")
vchan-socket-proxy "$D" "$path" /tmp/vc.sock > /tmp/vproxy.log 2>&1 &
CP=$!
wait_until 20 test -S /tmp/vc.sock
t0=$(date +%s)
# The rig itself must keep each context's vector registers while the two
# domains share the CPUs (glibc's memcpy moves the vchan data through them).
fpcheck -p 2 -t 20 > /tmp/fpcheck.out 2>&1 &
timeout 600 vchanpeer connect /tmp/vc.sock -n 16M -s 22 -r 11 > /tmp/vp1.out 2>&1
wait $!
sed 's/^/gntalloc: /' /tmp/fpcheck.out
case "$(tail -1 /tmp/fpcheck.out)" in
"fpcheck checks "[1-9]*" bad 0") pass rig-vector-registers-survive-domain-switches ;;
*) fail rig-vector-registers-survive-domain-switches "$(tail -1 /tmp/fpcheck.out)" ;;
esac
echo "gntalloc: vchan dom0: $(cat /tmp/vp1.out) ($(($(date +%s) - t0)) s)"
want="sent 16777216 received 16777216 match ok"
expect vchan-16MiB-each-way-dom0-side "$(cut -d" " -f2-7 /tmp/vp1.out)" "$want"
wait_until 120 grep -q "XENRIG-VCHAN transfer1" $log
echo "gntalloc: vchan domU: $(ga 'XENRIG-VCHAN transfer1')"
expect vchan-16MiB-each-way-domU-side "$(ga 'XENRIG-VCHAN transfer1' | cut -d" " -f2-7)" "$want"

wait_until 60 grep -q "XENRIG-VCHAN listening2" $log
timeout 600 vchanpeer connect /tmp/vc.sock -n 256M -s 44 -r 33 > /tmp/vp2.out 2>&1
echo "gntalloc: vchan dom0 (server killed): $(cat /tmp/vp2.out)"
wait_until 180 grep -q "XENRIG-VCHAN done" $log
echo "gntalloc: vchan domU (server killed): $(ga 'XENRIG-VCHAN transfer2')"
case "$(ga 'XENRIG-VCHAN transfer2')" in
*"match ok killed@"*) pass vchan-server-killed-mid-transfer ;;
*) fail vchan-server-killed-mid-transfer "$(ga 'XENRIG-VCHAN transfer2')" ;;
esac
set -- $(sed -n 's/^vchanpeer sent \([0-9]*\) received \([0-9]*\) match \([^ ]*\).*/\1 \2 \3/p' /tmp/vp2.out)
[ "${2:-0}" -lt $((256 << 20)) ] && [ "$3" = ok ] && pass vchan-dom0-side-ends-when-server-dies ||
	fail vchan-dom0-side-ends-when-server-dies "$(cat /tmp/vp2.out)"
set -- $(ga "XENRIG-VCHAN reclaimed")
echo "gntalloc: after the kill: pending $1 deferred +$2 reclaimed +$3 leaked $4 free ${5}KiB"
if [ "${1:--1}" != -1 ]; then
	[ "$1" = 0 ] && [ "$2" = "$3" ] && [ "$4" = 0 ] && pass vchan-kill-every-grant-reclaimed ||
		fail vchan-kill-every-grant-reclaimed "pending $1 deferred +$2 reclaimed +$3 leaked $4"
fi
[ -n "$5" ] && [ "$5" -gt -512 ] && pass vchan-kill-no-page-leaked ||
	fail vchan-kill-no-page-leaked "domU free memory changed by ${5:-?} KiB"
kill $CP 2>/dev/null
xl shutdown -w ga >/tmp/xl-shutdown-ga.log 2>&1
if wait_until 120 domu_gone ga; then pass gntalloc-domu-shuts-down-cleanly; else
	fail gntalloc-domu-shuts-down-cleanly "$(cat /tmp/xl-shutdown-ga.log)"; xl destroy ga; fi

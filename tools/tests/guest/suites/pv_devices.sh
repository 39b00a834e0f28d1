# SPDX-License-Identifier: GPL-2.0
# A PV domU with a block device and a network interface served by dom0:
# blkfront/blkback and netfront/netback move every byte through grants, so
# this is the grant table under its real users, in both domains. The domU
# uses the v2 grant-table layout (grant_table.version=2). It
# writes 16 MiB to its disk and reads it back (checksums compared in the
# domU and against the backing file in dom0), then sends 16 MiB to dom0
# and receives 16 MiB from it over the network; then it shuts down cleanly
# and no grant is left deferred.
#
# The hotplug scripts are minimal versions of Xen's block and vif scripts:
# they publish the loop device's numbers and bring the vif up.

block_script
vif_script

S=/sys/module/grant_table/stats
toolstack_up || fail pv-toolstack "toolstack did not start"
truncate -s 64M /tmp/disk.img
LOOP=$(losetup -f)
losetup "$LOOP" /tmp/disk.img || fail pv-loop-device "losetup failed"
P0=$(cat $S/pending 2>/dev/null)

cat > /etc/xen/pvd.cfg <<EOC
name = "pvd"
type = "pv"
kernel = "/guest/bzImage"
ramdisk = "/guest/initrd.gz"
extra = "console=hvc0 xenrig.role=blknet grant_table.version=2"
memory = 256
vcpus = 1
on_poweroff = "destroy"
on_crash = "destroy"
disk = [ "format=raw,vdev=xvda,access=rw,script=/etc/xen/scripts/xr-block,target=$LOOP" ]
vif = [ "mac=00:16:3e:00:09:02,script=/etc/xen/scripts/xr-vif" ]
EOC
: > /var/log/xen/console/guest-pvd.log
log=/var/log/xen/console/guest-pvd.log
if xl create /etc/xen/pvd.cfg >/tmp/xl-create-pvd.log 2>&1 &&
	wait_until 180 grep -q XENRIG-GUEST-READY $log; then
	pass pv-domu-boots-with-disk-and-vif
else
	fail pv-domu-boots-with-disk-and-vif "$(cat /tmp/xl-create-pvd.log)"
fi
# dom0 side of the network exchange: receive on 5001, serve on 5002. nc
# half-closes the connection when its standard input ends, and the sender
# stops at that, so the receiver's input is a FIFO held open until the end.
dd if=/dev/urandom of=/tmp/d0data bs=1M count=16 2>/dev/null
mkfifo /tmp/nc-hold
nc -l -p 5001 > /tmp/d0recv < /tmp/nc-hold &
NC1=$!
exec 9> /tmp/nc-hold
nc -l -p 5002 < /tmp/d0data &
NC2=$!
wait_until 240 grep -q "XENRIG-DOMU-BLKNET done" $log
exec 9>&-
kill $NC1 $NC2 2>/dev/null
get() { sed -n "s/.*XENRIG-DOMU-BLKNET $1 \([^ ]*\).*/\1/p" $log | tr -d '\r' | tail -1; }
grep XENRIG-DOMU-BLKNET $log | tr -d '\r' | sed 's/^/pv: /'
echo "pv: dom0 received $(wc -c < /tmp/d0recv) bytes"
# The domU asked for the v2 layout: its frontends grant through it.
expect pv-domu-grant-table-v2 "$(grep -c 'Grant tables using version 2 layout' $log)" 1
expect pv-block-device-size "$(get disk_kb)" 65536
W=$(get wrote_md5)
expect pv-block-read-back-matches "$(get read_md5)" "$W"
expect pv-block-backing-file-matches \
	"$(dd if=/tmp/disk.img bs=1M count=16 2>/dev/null | md5sum | cut -d' ' -f1)" "$W"
expect pv-net-ping "$(get ping)" ok
expect pv-net-domu-to-dom0 "$(md5sum < /tmp/d0recv | cut -d' ' -f1)" "$(get sent_md5)"
expect pv-net-dom0-to-domu "$(get recv_md5)" "$(md5sum < /tmp/d0data | cut -d' ' -f1)"
xl shutdown -w pvd >/tmp/xl-shutdown.log 2>&1
gone() { ! xl list pvd >/dev/null 2>&1; }
if wait_until 120 gone; then pass pv-domu-shuts-down-cleanly; else
	fail pv-domu-shuts-down-cleanly "$(cat /tmp/xl-shutdown.log)"; xl destroy pvd; fi
losetup -d "$LOOP"
if [ -d $S ]; then
	wait_until 10 test "$(cat $S/pending)" = "$P0"
	expect pv-no-grant-left-deferred "$(cat $S/pending) $(cat $S/leaked)" "$P0 0"
fi

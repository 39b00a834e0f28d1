# SPDX-License-Identifier: GPL-2.0
# domU role of the lifecycle suite: run what dom0 asks through xenstore
# (data/lc-cmd = "SEQ WHAT", relative to this domain, so it follows the
# domain across save/restore and migration, whose id changes) and answer on
# the console with "XENRIG-LC SEQ WHAT result...":
#   mem    current_kb=N target_kb=N (the balloon's view)
#   io     wrote=MD5 read=MD5: 4 MiB of random data written to /dev/xvda at
#          (SEQ mod 15) * 4 MiB (direct I/O, so through blkfront's grants) and read back
#   grant  gntloop's last line: gntalloc pages mapped back with gntdev (PV
#          only: a PVH domain must not map its own grants, see faults.sh)
B=/sys/devices/system/xen_memory/xen_memory0
last=
while :; do
	cmd=$(xenstore-read data/lc-cmd 2>/dev/null)
	if [ -n "$cmd" ] && [ "$cmd" != "$last" ]; then
		last=$cmd
		set -- $cmd
		case $2 in
		mem)
			echo "XENRIG-LC $1 mem current_kb=$(cat $B/info/current_kb) target_kb=$(cat $B/target_kb)"
			;;
		io)
			dd if=/dev/urandom of=/tmp/lc bs=1M count=4 2>/dev/null
			dd if=/tmp/lc of=/dev/xvda bs=1M seek=$(($1 % 15 * 4)) oflag=direct 2>/dev/null
			sync
			echo 3 > /proc/sys/vm/drop_caches
			r=$(dd if=/dev/xvda bs=1M skip=$(($1 % 15 * 4)) count=4 iflag=direct 2>/dev/null | md5sum | cut -d' ' -f1)
			echo "XENRIG-LC $1 io wrote=$(md5sum < /tmp/lc | cut -d' ' -f1) read=$r"
			;;
		grant)
			echo "XENRIG-LC $1 grant $(gntloop -n 16 -d "$(xenstore-read domid)" 2>&1 | tail -1)"
			;;
		esac
	fi
	sleep 0.3
done

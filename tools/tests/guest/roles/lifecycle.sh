# SPDX-License-Identifier: GPL-2.0
# domU role of the lifecycle suite: run what dom0 asks through xenstore
# (data/lc-cmd = "SEQ WHAT", relative to this domain, so it follows the
# domain across save/restore and migration, whose id changes) and answer on
# the console with "XENRIG-LC SEQ WHAT result...":
#   mem    current_kb=N target_kb=N (the balloon's view), and with the Rust
#          balloon released_early=PAGES (given back at boot, before it ran)
#   io     wrote=MD5 read=MD5: 4 MiB of random data written to /dev/xvda at
#          (SEQ mod 15) * 4 MiB (direct I/O, so through blkfront's grants) and read back
#   grant  gntloop's last line: gntalloc pages mapped back with gntdev (PV
#          only: a PVH domain must not map its own grants, see faults.sh)
#   share  starts two gntshare -w (tools/tests/prog/gntshare.c), a and b,
#          each sharing 16 pages with dom0: a=REF,... b=REF,...
#   gs X C sends command C (check, close; "-": none) to gntshare X and
#          answers with its facts so far: KEY=VALUE ...
#   net    sends 2 MiB to dom0 (10.9.0.1 port 5001) and fetches 2 MiB
#          (port 5002): sent=MD5 recv=MD5
B=/sys/devices/system/xen_memory/xen_memory0
last=
# gs_facts X: gntshare X's output lines as KEY=VALUE (spaces in values: _).
gs_facts() {
	sed -n 's/^XENRIG-GNTSHARE \([a-z_]*\) \(.*\)/\1 \2/p' /tmp/gs$1.out |
		grep -v '^refs ' | sed 's/ /=/; s/ /_/g' | tr '\n' ' '
}
while :; do
	cmd=$(xenstore-read data/lc-cmd 2>/dev/null)
	if [ -n "$cmd" ] && [ "$cmd" != "$last" ]; then
		last=$cmd
		set -- $cmd
		case $2 in
		mem)
			e=
			[ -f $B/stats/released_early ] && e="released_early=$(cat $B/stats/released_early)"
			echo "XENRIG-LC $1 mem current_kb=$(cat $B/info/current_kb) target_kb=$(cat $B/target_kb) $e"
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
		share)
			for x in a b; do
				rm -f /tmp/gs$x.in /tmp/gs$x.out
				mkfifo /tmp/gs$x.in
				gntshare -w -n 16 -H 0 -t 900 < /tmp/gs$x.in > /tmp/gs$x.out 2>&1 &
			done
			# Held open: gntshare reads its commands until the end.
			exec 5> /tmp/gsa.in 6> /tmp/gsb.in
			i=0
			while [ $i -lt 100 ] && ! { grep -q "ready\|error" /tmp/gsa.out &&
				grep -q "ready\|error" /tmp/gsb.out; }; do
				sleep 0.2
				i=$((i + 1))
			done
			refs() { sed -n 's/^XENRIG-GNTSHARE refs //p' /tmp/gs$1.out | tr ' ' ','; }
			echo "XENRIG-LC $1 share a=$(refs a) b=$(refs b) $(gs_facts a | grep -o 'error=[^ ]*')"
			;;
		gs)
			if [ "$4" != - ]; then
				case $3 in a) echo "$4" >&5 ;; b) echo "$4" >&6 ;; esac
				sleep 1
			fi
			echo "XENRIG-LC $1 gs $3 $4 $(gs_facts "$3")"
			;;
		net)
			dd if=/dev/urandom of=/tmp/net bs=1M count=2 2>/dev/null
			ip link set eth0 up 2>/dev/null
			ip addr add 10.9.0.2/24 dev eth0 2>/dev/null
			i=0
			until nc 10.9.0.1 5001 < /tmp/net 2>/dev/null || [ $i -ge 50 ]; do
				sleep 0.2
				i=$((i + 1))
			done
			i=0
			rm -f /tmp/netrecv
			until { nc 10.9.0.1 5002 > /tmp/netrecv 2>/dev/null && [ -s /tmp/netrecv ]; } ||
				[ $i -ge 50 ]; do
				sleep 0.2
				i=$((i + 1))
			done
			echo "XENRIG-LC $1 net sent=$(md5sum < /tmp/net | cut -d' ' -f1) recv=$(md5sum < /tmp/netrecv | cut -d' ' -f1)"
			;;
		esac
	fi
	sleep 0.3
done

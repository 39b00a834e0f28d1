# SPDX-License-Identifier: GPL-2.0
# Sustained load: Debian's stress-ng (vm, mmap with --page-in, bigheap) in
# dom0 and in a PV domU, and gntalloc shares mapped back with gntdev
# (gntloop) in both, while dom0 cycles the domU's balloon between 256 and
# 448 MiB and its own between its start and 64 MiB below. xenrig.cycles=N
# cycles (10 in tools/xenrig test, 200 with tools/xenrig soak). Then: every
# target reached, no OOM kill and no warning in either kernel, every share
# right, dom0's memory and balloon back where they started (its view and
# Xen's), the domU's balloon at its target by its own count and Xen's, and
# with the Rust balloon its counters balanced (as many pages back in as out).
cycles=$(sed -n 's/.*xenrig\.cycles=\([0-9]*\).*/\1/p' /proc/cmdline)
cycles=${cycles:-10}
RUST=
[ -d $M/stats ] && RUST=1
oom_lines() { dmesg | grep -ciE 'out of memory|oom-kill|invoked oom-killer'; }
bal_kb() { echo $(($(cat $M/info/low_kb) + $(cat $M/info/high_kb))); }
counters() { [ -n "$RUST" ] && echo "out=$(cat $M/stats/ballooned_out) in=$(cat $M/stats/ballooned_in)"; }

toolstack_up || fail soak-toolstack "toolstack did not start"
if [ ! -x /usr/bin/stress-ng ]; then
	fail soak-stress-ng "stress-ng is not in the initramfs"
	exit 0
fi
block_script
# The domU's disk: stress-ng and its libraries, a gzipped cpio archive.
cp /guest/stress-ng.cpio.gz /tmp/sng.img
truncate -s $((($(stat -c %s /tmp/sng.img) / 1048576 + 1) * 1048576)) /tmp/sng.img
LOOP=$(losetup -f)
losetup -r "$LOOP" /tmp/sng.img || fail soak-loop-device "losetup failed"

S=$(cat $M/info/current_kb)
L0=$(bal_kb)
# Xen's count of dom0's memory less the balloon's: constant while no page is lost.
xen_minus_cur() { echo $(($(xenpages 0) - $(cat $M/info/current_kb))); }
X0=$(xen_minus_cur)
C0=$(counters)
OOM0=$(oom_lines)
C=/var/log/xen/console/guest-soak.log
cat > /etc/xen/soak.cfg <<EOC
name = "soak"
type = "pv"
kernel = "/guest/bzImage"
ramdisk = "/guest/initrd.gz"
extra = "console=hvc0 xenrig.role=soak"
memory = 448
maxmem = 512
vcpus = 1
on_poweroff = "destroy"
on_crash = "destroy"
disk = [ "format=raw,vdev=xvda,access=ro,script=/etc/xen/scripts/xr-block,target=$LOOP" ]
EOC
: > $C
if xl create /etc/xen/soak.cfg >/tmp/xl-create-soak.log 2>&1 &&
	wait_until 240 grep -q "XENRIG-SOAK-DOMU start" $C; then
	pass soak-domu-boots
else
	fail soak-domu-boots "$(cat /tmp/xl-create-soak.log; grep XENRIG-SOAK $C)"
	exit 0
fi
grep -q "XENRIG-SOAK-DOMU no stress-ng" $C && fail soak-domu-stress-ng "the domU could not unpack stress-ng"
DU0=$(grep "XENRIG-SOAK-DOMU start" $C | tr -d '\r')
DOMID=$(xl domid soak)

# dom0's load, until the cycles are over.
# SCHED_IDLE: under emulation the stressors would otherwise starve the toolstack
# and the balloon thread of the CPU time a cycle needs.
stress-ng --sched idle --vm 1 --vm-bytes 48M --mmap 1 --mmap-bytes 16M --page-in --oomable \
	--timeout 7200 >/tmp/stress0.log 2>&1 &
SP=$!
(
	ok=0 bad=0
	while [ ! -e /tmp/soak-stop ]; do
		stress-ng --sched idle --bigheap 1 --bigheap-ops 400 --oomable --timeout 20 >>/tmp/stress0.log 2>&1
		if [ "$(gntloop -n 16 2>&1 | tail -1)" = "gntloop: ok" ]; then
			ok=$((ok + 1))
		else
			bad=$((bad + 1))
		fi
		echo "$ok,$bad" > /tmp/soak-gntloop
	done
) &
LP=$!

# dom0's own target: gntloop borrows and returns ballooned pages many times
# a second, and the balloon refills what a loan took, so current_kb is
# within a few MiB of the target rather than on it at any given moment.
near_kb() { near "$(cat $M/info/current_kb)" "$1" 4096; }
dom0_to() { echo "$1" > $M/target_kb && wait_until 60 near_kb "$1"; }
missed=0 missed0=0
t0=$(date +%s)
for i in $(seq "$cycles"); do
	xl mem-set soak 256m && wait_until 60 domu_mem_near soak 256 || missed=$((missed + 1))
	dom0_to $((S - 65536)) || missed0=$((missed0 + 1))
	xl mem-set soak 448m && wait_until 60 domu_mem_near soak 448 || missed=$((missed + 1))
	dom0_to "$S" || missed0=$((missed0 + 1))
	echo "soak: $i of $cycles cycles, $(($(date +%s) - t0)) s, missed domU $missed dom0 $missed0, gntloop ok,failed $(cat /tmp/soak-gntloop 2>/dev/null)"
done
echo "soak: $cycles cycles in $(($(date +%s) - t0)) s"
touch /tmp/soak-stop
xenstore-write "/local/domain/$DOMID/data/soak-stop" 1
wait $LP
if kill -0 $SP 2>/dev/null; then pass soak-dom0-stress-ran-throughout; else
	fail soak-dom0-stress-ran-throughout "$(tail -3 /tmp/stress0.log)"; fi
kill -INT $SP 2>/dev/null
wait $SP
expect soak-domu-targets-reached "$missed" 0
expect soak-dom0-targets-reached "$missed0" 0
G0=$(cat /tmp/soak-gntloop)
if [ "${G0#*,}" = 0 ] && [ "${G0%,*}" -gt 0 ]; then pass soak-dom0-shares-right
else fail soak-dom0-shares-right "gntloop ok,failed: $G0"; fi
expect soak-dom0-no-oom-kill "$(oom_lines)" "$OOM0"

if wait_until 120 grep -q "XENRIG-SOAK-DOMU end" $C; then
	E=$(grep "XENRIG-SOAK-DOMU end" $C | tr -d '\r')
	echo "soak: domU: $DU0 / $E"
	g=$(field gntloop "$E")
	if [ "${g#*,}" = 0 ] && [ "${g%,*}" -gt 0 ]; then pass soak-domu-shares-right
	else fail soak-domu-shares-right "gntloop ok,failed: $g"; fi
	expect soak-domu-no-oom-kill-no-warning "$(field oom "$E") $(field bad "$E")" "0 0"
	expect soak-domu-stress-ran-throughout "$(field stress "$E")" running
	expect soak-domu-balloon-at-target "$(field current_kb "$E") $(field target_kb "$E")" \
		"$(field target_kb "$E") 458752"
	domu_mem_near soak 448 && pass soak-domu-xen-agrees ||
		fail soak-domu-xen-agrees "xl list: $(domu_mem soak) MiB"
	if [ -n "$RUST" ]; then
		o0=$(field out "$DU0") i0=$(field in "$DU0") o1=$(field out "$E") i1=$(field in "$E")
		expect soak-domu-counters-balance "$((o1 - o0)) $((i1 - i0))" "$((o1 - o0)) $((o1 - o0))"
		[ $((o1 - o0)) -ge $((cycles * 192 * 256)) ] && pass soak-domu-counters-count-every-cycle ||
			fail soak-domu-counters-count-every-cycle "out $((o1 - o0)) pages over $cycles cycles"
	fi
else
	fail soak-domu-finished "no end line: $(grep XENRIG-SOAK $C | tail -2)"
fi
xl destroy soak 2>/dev/null
wait_until 30 domu_gone soak
losetup -d "$LOOP"

# dom0 back where it started, by its own count and Xen's.
back() { [ "$(cat $M/info/current_kb) $(bal_kb)" = "$S $L0" ]; }
wait_until 60 back
expect soak-dom0-memory-back "$(cat $M/info/current_kb) $(bal_kb)" "$S $L0"
expect soak-dom0-xen-agrees "$(xen_minus_cur)" "$X0"
if [ -n "$RUST" ]; then
	C1=$(counters)
	expect soak-dom0-counters-balance \
		"$(($(field out "$C1") - $(field out "$C0")))" "$(($(field in "$C1") - $(field in "$C0")))"
fi
pass soak-done

# SPDX-License-Identifier: GPL-2.0
# domU role of the soak suite: unpack Debian's stress-ng from the disk dom0
# gives (/dev/xvda, a gzipped cpio archive), then until dom0 writes
# data/soak-stop run stress-ng's vm, mmap (with --page-in) and bigheap
# stressors and gntalloc shares of pages mapped back with gntdev (gntloop),
# while dom0 cycles this domain's balloon. Prints "XENRIG-SOAK-DOMU start
# out=N in=N" (the balloon's counters, when it has them) once loaded, then
# "XENRIG-SOAK-DOMU end current_kb=N target_kb=N out=N in=N gntloop=OK,FAILED
# oom=N bad=N stress=running|stopped" (oom: OOM-killer lines in the kernel
# log; bad: warnings, oopses, BUGs; stress: whether the vm and mmap
# stressors still ran at the end).
B=/sys/devices/system/xen_memory/xen_memory0
counters() {
	if [ -d $B/stats ]; then
		echo "out=$(cat $B/stats/ballooned_out) in=$(cat $B/stats/ballooned_in)"
	else
		echo "out=- in=-"
	fi
}
if ! gzip -dc /dev/xvda 2>/dev/null | (cd / && cpio -id 2>/dev/null) || [ ! -x /usr/bin/stress-ng ]; then
	echo "XENRIG-SOAK-DOMU no stress-ng"
fi
me=$(xenstore-read domid)
echo "XENRIG-SOAK-DOMU start $(counters)"
# --oomable: a stressor the OOM killer picks is not restarted (none must be).
stress-ng --sched idle --vm 1 --vm-bytes 32M --mmap 1 --mmap-bytes 16M --page-in --oomable \
	--timeout 7200 >/tmp/stress.log 2>&1 &
sp=$!
ok=0 bad_runs=0
while ! xenstore-read data/soak-stop >/dev/null 2>&1; do
	# bigheap grows until its operation count: 400 x 64 KiB, 25 MiB.
	stress-ng --sched idle --bigheap 1 --bigheap-ops 400 --oomable --timeout 20 >>/tmp/stress.log 2>&1
	if [ "$(gntloop -n 16 -d "$me" 2>&1 | tail -1)" = "gntloop: ok" ]; then
		ok=$((ok + 1))
	else
		bad_runs=$((bad_runs + 1))
	fi
done
# Still loading the domain at the end, or not.
if kill -0 $sp 2>/dev/null; then st=running; else st=stopped; fi
kill -INT $sp 2>/dev/null
wait $sp
oom=$(dmesg | grep -ciE 'out of memory|oom-kill|invoked oom-killer')
bad=$(dmesg | grep -cE 'WARNING:|BUG:|Oops|Call Trace')
tail -2 /tmp/stress.log
echo "XENRIG-SOAK-DOMU end current_kb=$(cat $B/info/current_kb) target_kb=$(cat $B/target_kb) $(counters) gntloop=$ok,$bad_runs oom=$oom bad=$bad stress=$st"
. /tests/roles/memwatch.sh

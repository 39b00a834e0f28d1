# SPDX-License-Identifier: GPL-2.0
# Benchmark: the grant table's deferred reclaim and its grant/end path.
# grant_table.free_per_iteration comes from the command line the host chose.
# - drain: N grants (1,000, 10,000, 100,000; only 1,000 at a limit of 10
#   for C, whose timer needs N/10 seconds) are shared with gntalloc, mapped
#   with gntdev, ended while mapped (so deferred) and then unmapped; the
#   time from the start of the unmap until the backlog is gone, and the
#   worst wakeup latency of a SCHED_FIFO task on each vCPU from the end of
#   the unmap until then (and from the end of the unmap, -after-unmap-);
# - idle latency: the same task with nothing going on, for reference;
# - ops: grants created and ended per second through gntalloc;
# - hold (xenrig.hold=SECONDS): CPU time while 100,000 deferred entries
#   stay mapped that long.
# xenrig.reps= repeats. Prints "XENRIG-BENCH key value" lines.
reps=$(sed -n 's/.*xenrig\.reps=\([0-9]*\).*/\1/p' /proc/cmdline)
# xenrig.hold=SECONDS: also keep a backlog of 100,000 deferred entries
# mapped that long and print the CPU time all CPUs spent busy meanwhile.
hold=$(sed -n 's/.*xenrig\.hold=\([0-9]*\).*/\1/p' /proc/cmdline)
fpi=$(cat /sys/module/grant_table/parameters/free_per_iteration)
sizes="1000 10000 100000"
# The C timer frees at most fpi entries a second: at 10, 1,000 entries take
# 100 s, and larger backlogs are projected instead of waited for.
if [ ! -d /sys/module/grant_table/stats ] && [ "$fpi" -gt 0 ] && [ "$fpi" -lt 1000 ]; then
	sizes=1000
	for n in 10000 100000; do
		echo "grant: projection: the C driver at free_per_iteration=$fpi drains $n entries in at least $((n / fpi)) s"
	done
fi
toolstack_up || fail bench-grant-toolstack "toolstack did not start"
echo 1073741824 > /sys/module/xen_gntalloc/parameters/limit
for r in $(seq "${reps:-2}"); do
	out=$(latency -t 3)
	echo "XENRIG-BENCH grant-idle-max-latency-us $(echo "$out" | sed -n 's/^max_us=//p')"
	out=$(gntops -b 64 -t 5 2>&1)
	ops=$(echo "$out" | sed -n 's/^ops_per_s=//p')
	if [ "$(echo "$out" | tail -1)" = "gntops: ok" ]; then
		echo "XENRIG-BENCH grant-end-ops-per-s $ops"
	else
		fail bench-grant-ops "$out"
	fi
	if [ -n "$hold" ]; then
		out=$(gntdefer -n 100000 -r 0 -w "$hold" -t 300 2>&1)
		if [ "$(echo "$out" | tail -1)" = "gntdefer: ok" ]; then
			echo "XENRIG-BENCH grant-hold-100000-${hold}s-busy-ms/fpi=$fpi $(echo "$out" | sed -n 's/^hold_busy_ms=//p')"
		else
			fail bench-grant-hold "$(echo "$out" | tail -3)"
		fi
	fi
	for n in $sizes; do
		out=$(gntdefer -n $n -r 0 -t $((n / 5 + 120)) -L 2>&1)
		val() { echo "$out" | sed -n "s/^$1=//p"; }
		if [ "$(echo "$out" | tail -1)" = "gntdefer: ok" ]; then
			echo "XENRIG-BENCH grant-drain-$n-ms/fpi=$fpi $(val release_to_drained_ms)"
			echo "XENRIG-BENCH grant-drain-$n-after-unmap-ms/fpi=$fpi $(val drain_ms)"
			echo "XENRIG-BENCH grant-drain-$n-max-latency-us/fpi=$fpi $(val max_us)"
		else
			fail bench-grant-drain-$n "$(echo "$out" | tail -3)"
		fi
	done
done
pass bench-grant-done

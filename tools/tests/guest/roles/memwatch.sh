# SPDX-License-Identifier: GPL-2.0
# domU role: report the guest's own view of its balloon on the console
# whenever it changes: "XENRIG-DOMU-MEM current_kb=N target_kb=N low_kb=N",
# and, where the driver has them (the Rust balloon), its counters:
# "XENRIG-DOMU-STATS out=N in=N scrubbed=N zeroing_skipped=N", and once
# "XENRIG-DOMU-EARLY released_early=N".
# Only shell builtins in the loop besides sleep, so it costs next to nothing.
B=/sys/devices/system/xen_memory/xen_memory0
# Pages given back to Xen at boot, before the balloon ran (HVM/PVH, Rust).
[ -f $B/stats/released_early ] &&
	echo "XENRIG-DOMU-EARLY released_early=$(cat $B/stats/released_early)"
last=
last_st=
while :; do
	read -r c < $B/info/current_kb
	read -r t < $B/target_kb
	read -r l < $B/info/low_kb
	now="current_kb=$c target_kb=$t low_kb=$l"
	if [ "$now" != "$last" ]; then
		echo "XENRIG-DOMU-MEM $now"
		last=$now
	fi
	if [ -d $B/stats ]; then
		read -r o < $B/stats/ballooned_out
		read -r i < $B/stats/ballooned_in
		read -r s < $B/stats/scrubbed
		read -r z < $B/stats/zeroing_skipped
		st="out=$o in=$i scrubbed=$s zeroing_skipped=$z"
		if [ "$st" != "$last_st" ]; then
			echo "XENRIG-DOMU-STATS $st"
			last_st=$st
		fi
	fi
	sleep 0.3
done

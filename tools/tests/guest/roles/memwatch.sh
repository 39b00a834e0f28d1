# SPDX-License-Identifier: GPL-2.0
# domU role: report the guest's own view of its balloon on the console
# whenever it changes: "XENRIG-DOMU-MEM current_kb=N target_kb=N low_kb=N".
# Only shell builtins in the loop besides sleep, so it costs next to nothing.
B=/sys/devices/system/xen_memory/xen_memory0
last=
while :; do
	read -r c < $B/info/current_kb
	read -r t < $B/target_kb
	read -r l < $B/info/low_kb
	now="current_kb=$c target_kb=$t low_kb=$l"
	if [ "$now" != "$last" ]; then
		echo "XENRIG-DOMU-MEM $now"
		last=$now
	fi
	sleep 0.3
done

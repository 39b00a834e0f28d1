# SPDX-License-Identifier: GPL-2.0
# domU role: once the initial balloon-down is over (current_kb reached
# target_kb), write and read back a pattern over most of the free memory
# (memfill) and print "XENRIG-DOMU-MEMCHECK ok" or "... BAD <what>"; then
# report like the memwatch role.
B=/sys/devices/system/xen_memory/xen_memory0
i=0
while [ "$(cat $B/info/current_kb)" != "$(cat $B/target_kb)" ] && [ $i -lt 600 ]; do
	sleep 0.5
	i=$((i + 1))
done
avail=$(awk '$1 == "MemAvailable:" { print int($2 / 1024) }' /proc/meminfo)
out=$(memfill $((avail * 3 / 4)) 2>&1)
case $out in
*" ok") echo "XENRIG-DOMU-MEMCHECK ok $out" ;;
*) echo "XENRIG-DOMU-MEMCHECK BAD $out" ;;
esac
. /tests/roles/memwatch.sh

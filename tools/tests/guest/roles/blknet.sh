# SPDX-License-Identifier: GPL-2.0
# domU role: use the block device and the network interface dom0 serves
# (blkfront/netfront against blkback/netback, all through grants) and
# report on the console, one "XENRIG-DOMU-BLKNET key value" line per step.

say() { echo "XENRIG-DOMU-BLKNET $*"; }

i=0
while [ ! -b /dev/xvda ] && [ $i -lt 100 ]; do sleep 0.2; i=$((i + 1)); done
if [ -b /dev/xvda ]; then
	say disk_kb "$(($(cat /sys/block/xvda/size) / 2))"
	dd if=/dev/urandom of=/tmp/data bs=1M count=16 2>/dev/null
	say wrote_md5 "$(md5sum < /tmp/data | cut -d' ' -f1)"
	dd if=/tmp/data of=/dev/xvda bs=1M oflag=direct 2>/dev/null
	sync
	echo 3 > /proc/sys/vm/drop_caches
	say read_md5 "$(dd if=/dev/xvda bs=1M count=16 iflag=direct 2>/dev/null | md5sum | cut -d' ' -f1)"
else
	say disk_kb missing
fi

ip link set eth0 up 2>/dev/null
ip addr add 10.9.0.2/24 dev eth0 2>/dev/null
if ping -c 3 -W 5 10.9.0.1 >/dev/null 2>&1; then say ping ok; else say ping failed; fi
# dom0 listens on 5001 for our data, then serves its own on 5002.
i=0
until nc 10.9.0.1 5001 < /tmp/data 2>/dev/null; do
	i=$((i + 1))
	[ $i -ge 50 ] && break
	sleep 0.2
done
say sent_md5 "$(md5sum < /tmp/data | cut -d' ' -f1)"
i=0
until nc 10.9.0.1 5002 > /tmp/recv 2>/dev/null && [ -s /tmp/recv ]; do
	i=$((i + 1))
	[ $i -ge 50 ] && break
	sleep 0.2
done
say recv_md5 "$(md5sum < /tmp/recv | cut -d' ' -f1)"
say done 1

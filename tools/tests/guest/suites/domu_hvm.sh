# SPDX-License-Identifier: GPL-2.0
# An HVM domU (Debian's device model, direct kernel boot) booted with memory
# < maxmem (populate-on-demand).
C=/var/log/xen/console/guest-hvm1.log
toolstack_up
ls -la /usr/libexec /usr/lib/xen-4.17/boot /usr/share/seabios
date
if domu_start hvm1 256 1024 "" hvm; then
	pass domu-hvm-boot
else
	fail domu-hvm-boot "$(tail -5 $C 2>/dev/null) $(tail -3 /tmp/xl-create-hvm1.log)"
fi
date
cat /tmp/xl-create-hvm1.log
ls -la /var/log/xen /var/log/xen/console
tail -50 /var/log/xen/qemu-dm-hvm1.log
tail -80 $C
xl list

#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Sourced by dracut at pre-trigger: a guest booted with xen_scrub_pages=0
# (fast initial balloon-down) scrubs every page it hands back from now on.
# Does nothing where there is no Xen balloon device.
xen_memory=${M:-/sys/devices/system/xen_memory/xen_memory0}
if [ -w "$xen_memory/scrub_pages" ]; then
	echo 1 > "$xen_memory/scrub_pages" ||
		echo "xen-scrub-pages: cannot turn page scrubbing on" >&2
fi
unset xen_memory

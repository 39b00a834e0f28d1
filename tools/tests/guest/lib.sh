# SPDX-License-Identifier: GPL-2.0
# Helpers for the in-guest test suites (sourced by /init). Every case prints
# exactly one line, "XENRIG: PASS name" or "XENRIG: FAIL name: why"; the host
# turns those into the summary and the exit code.

M=/sys/devices/system/xen_memory/xen_memory0

# The drivers the kernel was built with: rust or c (the debug variant is
# the rust one with sanitizers).
drivers() {
	local v
	v=$(cat /etc/xenrig-variant)
	[ "$v" = debug ] && v=rust
	echo "$v"
}

pass() { echo "XENRIG: PASS $1"; }
fail() { echo "XENRIG: FAIL $1: $2"; }

# expect NAME GOT WANT
expect() {
	if [ "$2" = "$3" ]; then pass "$1"; else fail "$1" "got '$2', want '$3'"; fi
}

# wait_until SECONDS COMMAND...: poll every 0.2 s; 0 once COMMAND succeeds.
wait_until() {
	local start end next
	start=$(date +%s)
	end=$((start + $1)) next=$((start + 120))
	shift
	while ! "$@"; do
		[ "$(date +%s)" -ge "$end" ] && return 1
		# tools/rig/run.py ends a boot that prints nothing for 300 s.
		if [ "$(date +%s)" -ge "$next" ]; then
			echo "# still waiting after $((next - start)) s: $*"
			next=$((next + 120))
		fi
		sleep 0.2
	done
	return 0
}

# Starts xenstored, xen-init-dom0 and xenconsoled once.
toolstack_up() {
	[ -e /run/xenrig-toolstack ] && return 0
	xenstored --pid-file /var/run/xenstored.pid || return 1
	wait_until 20 xenstore-read /local/domain/0 >/dev/null 2>&1 ||
		wait_until 20 test -S /var/run/xenstored/socket || return 1
	xen-init-dom0 >/tmp/xen-init-dom0.log 2>&1 || return 1
	xenconsoled --pid-file=/var/run/xenconsoled.pid --log=guest \
		--log-dir=/var/log/xen/console || return 1
	touch /run/xenrig-toolstack
}

cur_kb() { cat $M/info/current_kb; }
kb_is() { [ "$(cur_kb)" = "$1" ]; }

# balloon_to KIB SECONDS: set target_kb and wait until current_kb reaches it.
balloon_to() {
	echo "$1" > $M/target_kb || return 1
	wait_until "$2" kb_is "$1"
}

# domu_start NAME MEM MAXMEM [EXTRA] [TYPE]: start a domU (TYPE pv, the
# default, pvh or hvm) from /guest and wait for its "ready" line on the
# console. HVM needs the device model: a boot with "rig:hvm" in
# tools/rig/run.py.
# A PVH guest under TCG needs tsc_mode="native" and noxsave. PVH and HVM
# guests now and then triple-fault early under TCG (C and Rust kernels alike,
# before any balloon or grant code runs, e.g. in ACPI setup just after the
# upcall vector is set), or their firmware stops: they get three tries. A try
# ends when the guest is gone (a reset destroys it) or when neither its
# console nor Xen's has printed anything for 180 s.
domu_start() {
	local type=${5:-pv} extra="console=hvc0 ${4:-}" more="" g=/guest
	if [ "$type" = hvm ]; then
		# Direct kernel boot by Debian's device model (hvmloader, SeaBIOS,
		# QEMU's linuxboot ROM); no emulated display. The kernel logs to
		# Xen's PV console, which xenconsoled keeps, as for PV guests: every
		# byte written to the emulated serial port is a trip to the device
		# model in dom0, and under TCG the boot's messages took 7 s there.
		# The serial port keeps what the firmware prints.
		extra="console=hvc0 ${4:-} noxsave"
		more='tsc_mode = "native"
vga = "none"
nographic = 1
vnc = 0
serial = "file:/var/log/xen/console/guest-'"$1"'-serial.log"'
	elif [ "$type" = pvh ]; then
		extra="$extra noxsave"
		more='tsc_mode = "native"'
		# The debug variant's PVH domUs run its KASAN kernel (see
		# tools/rig/initramfs.py) when they can: KASAN's shadow of all of
		# maxmem (an eighth) is written at boot, before the balloon runs,
		# so maxmem may be at most twice the populate-on-demand target.
		[ -f /guest/pvh/bzImage ] && [ "$3" -le $(($2 * 2)) ] && g=/guest/pvh
	fi
	# A guest that resets (an HVM triple fault is a reset) is gone, not
	# silently booted again into the same console log.
	cat > "/etc/xen/$1.cfg" <<EOC
name = "$1"
type = "$type"
kernel = "$g/bzImage"
ramdisk = "$g/initrd.gz"
extra = "$extra"
memory = $2
maxmem = $3
vcpus = 1
on_poweroff = "destroy"
on_crash = "destroy"
on_reboot = "destroy"
$more
EOC
	domu_create "$1" "$type"
}

# domu_create NAME TYPE: creates NAME from /etc/xen/NAME.cfg and waits until
# it is ready (boot_wait), with domu_start's three tries for PVH and HVM.
domu_create() {
	local try
	for try in 1 2 3; do
		: > "/var/log/xen/console/guest-$1.log"
		xl create "/etc/xen/$1.cfg" >/tmp/xl-create-$1.log 2>&1 || {
			cat /tmp/xl-create-$1.log
			return 1
		}
		# An HVM guest first runs hvmloader and SeaBIOS, all emulated.
		boot_wait "$1" $([ "$2" = hvm ] && echo 400 || echo 180) && return 0
		[ "$2" = pv ] && return 1
		echo "domu_start: $1 did not come up (try $try): $(xl dmesg | grep -E 'Triple fault' | tail -1)"
		xl destroy "$1" 2>/dev/null
	done
	return 1
}

# boot_wait NAME SECONDS: 0 once NAME is ready; 1 when it is gone, when
# SECONDS have passed, or when nothing was printed for 180 s.
boot_wait() {
	local end=$(($(date +%s) + $2)) seen="" now last
	last=$(date +%s)
	while ! domu_ready "$1"; do
		domu_gone "$1" && return 1
		now="$(stat -c %s /var/log/xen/console/guest-$1*.log 2>/dev/null | tr '\n' ' ')$(xl dmesg | tail -1)"
		if [ "$now" != "$seen" ]; then
			seen=$now last=$(date +%s)
		elif [ $(($(date +%s) - last)) -ge 180 ]; then
			echo "domu_start: $1 printed nothing for 180 s"
			return 1
		fi
		[ "$(date +%s)" -ge "$end" ] && return 1
		sleep 1
	done
}

# kthread_pid NAME: the pid of the (first) task whose comm is NAME.
kthread_pid() {
	local p
	for p in /proc/[0-9]*; do
		[ "$(cat $p/comm 2>/dev/null)" = "$1" ] && echo "${p#/proc/}" && return
	done
}

# cpu_ticks PID: user + system time of PID in clock ticks (USER_HZ, 100/s).
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }

# dom0_max_kb: dom0's maximum in KiB, from Xen's command line
# (dom0_mem=...,max:NNNM); its current size when no maximum is given.
dom0_max_kb() {
	local m
	m=$(xl info | sed -n 's/^xen_commandline.*dom0_mem=[^ ]*max:\([0-9]*\)M.*/\1/p')
	echo $((${m:-$(($(cur_kb) / 1024))} * 1024))
}

# unreachable_cpu_ms TARGET_KB [SECONDS]: with max_retry_count 0 (retry forever, the
# worst case), writes TARGET_KB to dom0's target_kb, waits until the balloon
# has done what it can (current_kb unchanged for 5 s, at most 120 s), and
# prints the balloon thread's CPU time (utime + stime) in ms over the SECONDS
# (60 unless told) that follow: what a guest whose target cannot be met pays while idle. The
# caller restores the target and max_retry_count.
unreachable_cpu_ms() {
	local bt c0 c1 prev= cur still=0 end
	bt=$(kthread_pid xen-balloon)
	echo 0 > $M/max_retry_count
	echo "$1" > $M/target_kb
	end=$(($(date +%s) + 120))
	while [ "$still" -lt 10 ] && [ "$(date +%s)" -lt "$end" ]; do
		sleep 0.5
		cur=$(cur_kb)
		if [ "$cur" = "$prev" ]; then still=$((still + 1)); else still=0; fi
		prev=$cur
	done
	c0=$(cpu_ticks "$bt")
	sleep "${2:-60}"
	c1=$(cpu_ticks "$bt")
	echo $(((c1 - c0) * 10))
}

# domu_ready NAME: the domU printed its ready line (and is still there).
domu_ready() {
	grep -q XENRIG-GUEST-READY "/var/log/xen/console/guest-$1.log" 2>/dev/null
}

# domu_mem NAME: the domain's current memory in MiB, as xl list reports it.
domu_mem() { xl list "$1" 2>/dev/null | awk 'NR == 2 { print $3 }'; }

# xen_nr_pages DOMID: the pages Xen counts for the domain (tot_pages), exact:
# from the domain dump of debug key 'q' on Xen's console ("nr_pages=N").
xen_nr_pages() {
	xl debug-keys q >/dev/null 2>&1 || return 1
	xl dmesg | awk -v d="$1:" '
		/General information for domain/ { on = ($NF == d) }
		on && /nr_pages=/ { sub(/.*nr_pages=/, ""); sub(/ .*/, ""); n = $0; on = 0 }
		END { print n }'
}

# near A B SLACK: |A - B| <= SLACK
near() { [ -n "$1" ] && [ $(($1 > $2 ? $1 - $2 : $2 - $1)) -le "$3" ]; }

# domu_mem_near NAME MIB: xl list shows NAME within 4 MiB of MIB.
domu_mem_near() { near "$(domu_mem "$1")" "$2" 4; }

# True once domain $1 is gone. "xl shutdown -w" returns when the domain has
# shut down; xl's own create process destroys it a moment later.
domu_gone() { ! xl list "$1" >/dev/null 2>&1; }

# field KEY LINE: the value of KEY=VALUE among the words of LINE.
field() { echo "$2" | tr ' ' '\n' | sed -n "s/^$1=//p"; }

# block_script: /etc/xen/scripts/xr-block, a minimal version of Xen's block
# hotplug script for disks backed by a loop device: "add" publishes the
# device's numbers for blkback; "remove" has nothing to undo.
block_script() {
	mkdir -p /etc/xen/scripts
	cat > /etc/xen/scripts/xr-block <<'EOS'
#!/bin/sh
[ "$1" = add ] || exit 0
dev=$(xenstore-read "$XENBUS_PATH/params")
xenstore-write "$XENBUS_PATH/physical-device" "$(stat -L -c %t:%T "$dev")"
xenstore-write "$XENBUS_PATH/hotplug-status" connected
EOS
	chmod +x /etc/xen/scripts/xr-block
}

# vif_script: /etc/xen/scripts/xr-vif, a minimal version of Xen's vif
# hotplug script: brings the vif up as 10.9.0.1/24 (the domU is 10.9.0.2),
# taken first from any older vif (a domain restored or migrated gets a new
# one while the old domain may still be going away).
vif_script() {
	mkdir -p /etc/xen/scripts
	cat > /etc/xen/scripts/xr-vif <<'EOS'
#!/bin/sh
case $1 in
online|add)
	for old in $(ip -o addr show | awk '$4 == "10.9.0.1/24" { print $2 }'); do
		ip addr del 10.9.0.1/24 dev "$old"
	done
	ip link set "$vif" up
	ip addr add 10.9.0.1/24 dev "$vif"
	xenstore-write "$XENBUS_PATH/hotplug-status" connected ;;
esac
exit 0
EOS
	chmod +x /etc/xen/scripts/xr-vif
}

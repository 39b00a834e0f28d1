# SPDX-License-Identifier: GPL-2.0
# The balloon driver's user-visible behaviour in dom0 and a PV domU:
# target_kb and target (memparse suffixes) move dom0 down and up; 20
# down/up cycles lose no page; writes without CAP_SYS_ADMIN are refused;
# the Rust driver's stats/ counters (skipped on the C driver); gntdev maps
# a grant into pages it borrows from the balloon and gives them back; a PV
# domU follows xl mem-set down and up, seen from dom0 and from inside.
# Sizes are small (64-256 MiB steps) so the boot stays short under TCG.

bal_kb() { echo $(($(cat $M/info/low_kb) + $(cat $M/info/high_kb))); }
memtotal() { awk '$1 == "MemTotal:" { print $2 }' /proc/meminfo; }
state() {
	echo "current_kb=$(cur_kb) target_kb=$(cat $M/target_kb) low_kb=$(cat $M/info/low_kb) high_kb=$(cat $M/info/high_kb) MemTotal=$(memtotal)"
}

toolstack_up || fail balloon-toolstack "toolstack did not start"
S=$(cur_kb)
L0=$(bal_kb)
T0=$(memtotal)
X0=$(domu_mem 0)
echo "balloon: dom0 at start: $(state) xl-list-MiB=$X0 retry_count=$(cat $M/retry_count) schedule_delay=$(cat $M/schedule_delay) max_retry_count=$(cat $M/max_retry_count) max_schedule_delay=$(cat $M/max_schedule_delay)"
expect dom0-target-equals-current-at-start "$(cat $M/target_kb)" "$S"

# The sysfs files and their modes are an interface (CONTRACTS.md).
got= want=
set -- target_kb 644 target 644 schedule_delay 444 max_schedule_delay 644 \
	retry_count 444 max_retry_count 644 scrub_pages 644 info/current_kb 444 \
	info/low_kb 444 info/high_kb 444
while [ $# -gt 0 ]; do
	got="$got $1=$(stat -c %a $M/$1 2>&1)"
	want="$want $1=$2"
	shift 2
done
expect balloon-sysfs-files-and-modes "$got" "$want"
# The initial balloon-down timeout: the parameter (both drivers) and, in
# the Rust driver, its read-only xen_memory0/boot_timeout view (CONTRACTS.md).
P=/sys/module/xen/parameters/balloon_boot_timeout
expect balloon-boot-timeout-param "$(stat -c %a $P 2>&1) $(cat $P 2>&1)" "444 180"
if [ -d $M/stats ]; then
	expect balloon-boot-timeout-sysfs "$(stat -c %a $M/boot_timeout 2>&1) $(cat $M/boot_timeout 2>&1)" "444 180"
	expect balloon-boot-timeout-sysfs-write-refused "$(xwrite $M/boot_timeout 5) $(cat $M/boot_timeout)" "EACCES 180"
fi
# The backoff tunables are DEVICE_ULONG_ATTRs: shown in hex without "0x"
# (max_schedule_delay 32 reads "20"), stored with kstrtoul base 0.
D=$M/max_schedule_delay
expect balloon-backoff-defaults-shown-in-hex \
	"$(cat $M/max_retry_count) $(cat $D) $(cat $M/retry_count) $(cat $M/schedule_delay)" "4 20 1 1"
expect balloon-tunable-write-decimal-reads-hex "$(xwrite $D 16) $(cat $D)" "ok 2 10"
expect balloon-tunable-write-0x-prefix "$(xwrite $D 0x40) $(cat $D)" "ok 4 40"
expect balloon-tunable-bad-write-einval "$(xwrite $D 12abc) $(cat $D)" "EINVAL 40"
expect balloon-tunable-unprivileged-write-refused "$(xwrite -u 65534 $D 8) $(cat $D)" "EACCES 40"
# The Rust driver bounds the delay between retries to 1 s .. 1 hour: 0 would
# retry without pause, and C takes any value (2^64-1 then overflows the
# timeout); out of range is ERANGE, value kept.
if [ -d $M/stats ]; then
	for v in 0 3601 18446744073709551615; do
		expect "balloon-max-schedule-delay-refuses-$v" "$(xwrite $D $v) $(cat $D)" "ERANGE 40"
	done
	expect balloon-max-schedule-delay-accepts-3600 "$(xwrite $D 3600) $(cat $D)" "ok 4 e10"
	expect balloon-schedule-delay-read-only "$(xwrite $M/schedule_delay 0) $(cat $M/schedule_delay)" "EACCES 1"
fi
echo 32 > $D
expect balloon-tunable-restored "$(cat $D)" 20

# A target write (sysfs here; the xenstore watch takes the same path) never
# waits for the balloon: gntdev borrows 65536 pages, which the balloon hands
# out holding its lock for the whole request, and target_kb is written while
# that runs. The write must return before the borrowing does.
uptime_s() { cut -d' ' -f1 /proc/uptime; }
gntborrow 65536 > /tmp/borrow.out 2>&1 &
bp=$!
wait_until 10 grep -q borrow-start /tmp/borrow.out
sleep 0.05
read -r tk < $M/target_kb
echo "$tk" > $M/target_kb
tw=$(uptime_s)
wait $bp
bs=$(sed -n 's/^borrow-start //p' /tmp/borrow.out)
bd=$(sed -n 's/^borrow-done //p' /tmp/borrow.out)
echo "balloon-observed: target write returned at $tw; gntdev borrowed 65536 pages from $bs to $bd"
if [ -z "$bd" ]; then
	fail balloon-target-write-never-waits "gntborrow: $(tail -1 /tmp/borrow.out)"
elif awk -v w="$tw" -v d="$bd" 'BEGIN { exit !(w < d) }'; then
	pass balloon-target-write-never-waits
else
	fail balloon-target-write-never-waits "write returned at $tw, after the borrowing ($bs to $bd)"
fi

# ---- 1. target_kb and target with memparse suffixes.
# move NAME FILE VALUE WANT_KB HOW: write VALUE to FILE (HOW "echo": the
# shell's echo, with a newline; "raw": one write(2) without newline), wait
# until current_kb reaches WANT_KB, check target_kb and target read back
# WANT_KB in KiB and in bytes.
move() {
	local out
	if [ "$5" = echo ]; then
		if ! out=$( (echo "$3" > $M/$2) 2>&1); then
			fail "$1" "echo '$3' > $2: $out"
			return 1
		fi
	else
		out=$(xwrite $M/$2 "$3")
		if [ "$out" != "ok ${#3}" ]; then
			fail "$1" "write '$3' to $2: $out"
			return 1
		fi
	fi
	if ! wait_until 120 kb_is "$4"; then
		fail "$1" "'$3' > $2: current_kb $(cur_kb) after 120 s, want $4 ($(state))"
		return 1
	fi
	expect "$1" "target_kb=$(cat $M/target_kb) target=$(cat $M/target)" \
		"target_kb=$4 target=$(($4 * 1024))"
}
move dom0-target_kb-down-256M target_kb $((S - 262144)) $((S - 262144)) echo
move dom0-target-M-suffix target "$((S / 1024 - 128))M" $((S - 131072)) raw
move dom0-target-K-suffix target "$((S - 196608))K" $((S - 196608)) echo
move dom0-target-bytes target "$(((S - 65536) * 1024))" $((S - 65536)) raw
move dom0-target-m-lowercase target "$((S / 1024 - 32))m" $((S - 32768)) echo
move dom0-target-k-lowercase target "$((S - 229376))k" $((S - 229376)) raw
if [ $((S % 1048576)) = 0 ]; then
	move dom0-target-G-suffix-back target "$((S / 1048576))G" "$S" echo
else
	echo "balloon: note: dom0 starts at $S KiB, not whole GiB: G suffix tested downwards"
	move dom0-target-G-suffix-down target "$((S / 1048576))G" $((S / 1048576 * 1048576)) echo
	move dom0-target_kb-back target_kb "$S" "$S" echo
fi
expect dom0-suffix-moves-nothing-lost \
	"current_kb=$(cur_kb) balloon_kb=$(bal_kb) MemTotal=$(memtotal)" \
	"current_kb=$S balloon_kb=$L0 MemTotal=$T0"

# ---- 2. 20 down/up cycles of 64 MiB: no page lost.
why=
d_bal= d_tot= d_xl=
for i in $(seq 20); do
	if ! balloon_to $((S - 65536)) 60; then
		why="cycle $i down: $(state)"
		break
	fi
	if [ "$i" = 1 ] || [ "$i" = 20 ]; then
		d_bal="$d_bal $(($(bal_kb) - L0))"
		d_tot="$d_tot $((T0 - $(memtotal)))"
		d_xl="$d_xl $((X0 - $(domu_mem 0)))"
	fi
	if ! balloon_to "$S" 60; then
		why="cycle $i up: $(state)"
		break
	fi
done
if [ -z "$why" ]; then pass dom0-20-cycles-64M; else fail dom0-20-cycles-64M "$why"; fi
expect dom0-cycles-balloon-holds-64M-when-down "$d_bal" " 65536 65536"
expect dom0-cycles-MemTotal-drops-64M-when-down "$d_tot" " 65536 65536"
expect dom0-cycles-xl-list-drops-64M-when-down "$d_xl" " 64 64"
expect dom0-cycles-current-back "$(cur_kb)" "$S"
expect dom0-cycles-balloon-back-to-baseline "$(bal_kb)" "$L0"
expect dom0-cycles-MemTotal-back "$(memtotal)" "$T0"
expect dom0-cycles-xl-list-back "$(domu_mem 0)" "$X0"

# ---- 4b. Writes without CAP_SYS_ADMIN change nothing: a non-root uid is
# stopped by the 0644 mode (EACCES), root without CAP_SYS_ADMIN by the
# store's capable() check (EPERM). The value written is a valid one.
v=$((S - 65536))
expect target_kb-unprivileged-uid-refused "$(xwrite -u 65534 $M/target_kb $v) $(cat $M/target_kb)" "EACCES $S"
expect target-unprivileged-uid-refused "$(xwrite -u 65534 $M/target $((v / 1024))M) $(cat $M/target_kb)" "EACCES $S"
expect target_kb-without-cap-sys-admin-refused "$(capdrop xwrite $M/target_kb $v 2>&1) $(cat $M/target_kb)" "EPERM $S"
expect target-without-cap-sys-admin-refused "$(capdrop xwrite $M/target $((v / 1024))M 2>&1) $(cat $M/target_kb)" "EPERM $S"
expect unprivileged-writes-nothing-moved "$(cur_kb)" "$S"

# ---- 6. The Rust driver's counters (stats/ exists only there).
if [ -d $M/stats ]; then
	st() { cat $M/stats/$1 2>/dev/null || echo "missing"; }
	missing=
	for f in ballooned_out ballooned_in scrubbed zeroing_skipped; do
		[ -r $M/stats/$f ] || missing="$missing $f"
	done
	expect stats-counter-files-present "${missing:- none}" " none"
	scrub0=$(cat $M/scrub_pages)
	for s in 0 1; do
		echo $s > $M/scrub_pages
		o=$(st ballooned_out) n=$(st ballooned_in) c=$(st scrubbed) z=$(st zeroing_skipped)
		if balloon_to $((S - 65536)) 60; then
			dout=$(($(st ballooned_out) - o)) dc=$(($(st scrubbed) - c)) dz=$(($(st zeroing_skipped) - z))
			expect "stats-ballooned_out-64M-scrub-$s" "$dout" 16384
			if [ $s = 0 ]; then
				expect stats-scrub-0-zeroing_skipped-and-not-scrubbed "$dz $dc" "16384 0"
			else
				expect stats-scrub-1-scrubbed "$dc" 16384
			fi
		else
			fail "stats-ballooned_out-64M-scrub-$s" "did not balloon down: $(state)"
		fi
		if balloon_to "$S" 60; then
			expect "stats-ballooned_in-64M-scrub-$s" $(($(st ballooned_in) - n)) 16384
		else
			fail "stats-ballooned_in-64M-scrub-$s" "did not balloon up: $(state)"
		fi
	done
	echo "$scrub0" > $M/scrub_pages
	echo "balloon: stats: $(for f in $M/stats/*; do printf '%s=%s ' "${f##*/}" "$(cat $f)"; done)"
else
	echo "balloon: note: no $M/stats (C balloon driver): counter checks skipped"
fi

# ---- 7. gntdev maps a grant of our own (shared through gntalloc) into
# pages borrowed from the balloon (xen_alloc_ballooned_pages), and the
# balloon gets them back. Twice: with the balloon empty (the driver hands
# back fresh pages to Xen first) and with dom0 ballooned down 64 MiB (pages
# come straight off the balloon's list).
# gnt_case NAME: gntloop with 16 pages; low+high+current must drop by 64 KiB
# while mapped, and low+high and current come back to where they were.
gnt_case() {
	local b0 c0 out rc
	b0=$(bal_kb) c0=$(cur_kb)
	out=$(gntloop -n 16 2>&1)
	rc=$?
	echo "$out" | sed "s/^/balloon: gntloop ($1): /"
	if [ $rc = 0 ] && echo "$out" | grep -q '^gntloop: ok$'; then
		pass "$1-maps-own-grant-both-ways"
	else
		fail "$1-maps-own-grant-both-ways" "rc $rc: $(echo "$out" | tail -1)"
	fi
	expect "$1-borrows-16-pages-from-balloon" "$(echo "$out" | sed -n 's/^balloon_lent_kb=//p')" 64
	back() { [ "$(bal_kb) $(cur_kb)" = "$b0 $c0" ]; }
	wait_until 30 back
	expect "$1-balloon-pages-returned" "balloon_kb=$(bal_kb) current_kb=$(cur_kb)" "balloon_kb=$b0 current_kb=$c0"
}
if [ ! -e /dev/xen/gntdev ]; then
	fail gntdev-maps-own-grant "no /dev/xen/gntdev"
elif [ ! -e /dev/xen/gntalloc ]; then
	fail gntdev-maps-own-grant "no /dev/xen/gntalloc"
else
	gnt_case gntdev
	if balloon_to $((S - 65536)) 60; then
		gnt_case gntdev-inflated
		balloon_to "$S" 60
	else
		fail gntdev-inflated-maps-own-grant-both-ways "dom0 did not balloon down: $(state)"
	fi
fi

# ---- 3. A PV domU ballooned with xl mem-set, seen from dom0 (xl list) and
# from inside (the memwatch role prints its own current_kb and target_kb).
C=/var/log/xen/console/guest-bal1.log
guest() { sed -n 's/.*XENRIG-DOMU-MEM current_kb=\([0-9]*\) target_kb=\([0-9]*\).*/\1 \2/p' $C | tail -1; }
guest_is() { [ "$(guest)" = "$1 $1" ]; }
free0=$(xl info | awk '$1 == "free_memory" { print $3 }')
if domu_start bal1 256 512 "xenrig.role=memwatch"; then
	pass domu-pv-balloon-boot
	echo "balloon: dom0 while the domU runs: $(state)"
	echo "balloon: domU at start (current_kb target_kb): $(guest)"
	# The initial target of a PV domU, which upstream got wrong in 2026
	# (6.12.85's partial revert of "x86/xen: fix balloon target
	# initialization for PVH dom0"): taken from get_num_physpages(), which
	# on PV leaves out PFN 0 and the ISA hole, the balloon's current count
	# fell short of the toolstack's target and the guest ballooned up at
	# boot. The guest's first view must be the toolstack's target, Xen's
	# page count of the domain must be that target and not move after
	# boot, and (Rust) the
	# balloon must have moved no page.
	id=$(xl domid bal1)
	tgt=$(xenstore-read /local/domain/$id/memory/target)
	first=$(sed -n 's/.*XENRIG-DOMU-MEM current_kb=\([0-9]*\) target_kb=\([0-9]*\).*/\1 \2/p' $C | head -1)
	n0=$(xen_nr_pages $id)
	sleep 3
	n1=$(xen_nr_pages $id)
	moved=$(sed -n 's/.*XENRIG-DOMU-STATS out=\([0-9]*\) in=\([0-9]*\).*/out=\1 in=\2/p' $C | tail -1)
	echo "balloon: domU bal1 at boot: toolstack target $tgt KiB, guest's first (current_kb target_kb) $first, Xen's nr_pages $n0 then $n1, balloon ${moved:-(no stats)}, $(grep -a 'Released [0-9]* page' $C)"
	expect domu-pv-initial-target-is-toolstack-target "$first" "$tgt $tgt"
	expect domu-pv-xen-pages-are-target-and-unchanged "$n0 $n1" "$((tgt / 4)) $((tgt / 4))"
	if [ -d $M/stats ]; then
		expect domu-pv-balloon-moved-nothing-at-boot "$moved" "out=0 in=0"
	fi
	why=
	for mib in 160 256 128 384 256 192 256; do
		xl mem-set bal1 ${mib}m
		if ! wait_until 60 guest_is $((mib * 1024)); then
			why="mem-set ${mib}m: guest sees (current_kb target_kb) $(guest), want $((mib * 1024))"
			break
		fi
		if ! wait_until 20 domu_mem_near bal1 "$mib"; then
			why="mem-set ${mib}m: xl list says $(domu_mem bal1) MiB"
			break
		fi
	done
	if [ -z "$why" ]; then
		pass domu-pv-mem-set-cycles-guest-and-xl-agree
	else
		fail domu-pv-mem-set-cycles-guest-and-xl-agree "$why"
	fi
	if timeout 120 xl shutdown -w bal1 >/dev/null 2>&1 && wait_until 30 domu_gone bal1; then
		pass domu-pv-balloon-shutdown
	else
		fail domu-pv-balloon-shutdown "bal1 still listed: $(xl list 2>&1 | tail -n +2)"
	fi
	freed() { [ "$(xl info | awk '$1 == "free_memory" { print $3 }')" = "$free0" ]; }
	wait_until 30 freed
	expect domu-pv-xen-free-memory-back "$(xl info | awk '$1 == "free_memory" { print $3 }')" "$free0"
else
	fail domu-pv-balloon-boot "$(tail -3 $C 2>/dev/null) $(tail -3 /tmp/xl-create-bal1.log)"
fi

# xenstored and xenconsoled mapped the domU's rings into pages borrowed from
# the balloon; once they are given back the driver repopulates them (the C
# driver first hot-adds an offline 128 MiB memory block when the balloon is
# empty and in credit, then retries once a second).
end_ok() { [ "$(cur_kb) $(bal_kb) $(memtotal)" = "$S $L0 $T0" ]; }
wait_until 30 end_ok
expect dom0-end-nothing-lost "$(cur_kb) $(bal_kb) $(memtotal)" "$S $L0 $T0"
echo "balloon: dom0 at end: $(state); offline memory blocks: $(grep -l offline /sys/devices/system/memory/memory*/state 2>/dev/null | wc -l)"

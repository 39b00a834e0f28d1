# SPDX-License-Identifier: GPL-2.0
# Booted in the debug variant only (fault injection): the balloon while Xen
# takes only part of what it is given and populates only part of what it is
# asked for (fail_xen_reservation), and while the balloon thread's page and
# slab allocations fail now and then (fail_page_alloc, failslab, for that
# thread only). dom0 (PV, single pages) goes through balloon cycles; a PVH
# domU (2 MiB blocks) does its initial balloon-down under injection. After
# each: current_kb agrees with Xen's count, free memory and the stats are
# back where they were, and a pattern written over most of the free memory
# reads back intact (no page Xen took is still in use). Then gntdev maps
# and copies (IOCTL_GNTDEV_GRANT_COPY) pages that gntalloc shares while
# grant operations answer GNTST_eagain now and then (fail_grant_op), which
# the retries must hide, and then GNTST_general_error, which must refuse the
# mapping or fail the copy segment and leave its destination unchanged; then
# while the page and slab allocations of the process sharing and mapping
# fail. After each, no reference stays used or deferred and gntdev's pages
# are back in the balloon. The PVH domU (memcheck role) also makes and frees
# gntdev's DMA buffers while Xen takes or gives back only part of their
# frames (fail_gnttab_dma_decrease, fail_gnttab_dma_increase). It runs the
# grant faults too, on the auto-translated paths, only with
# xenrig.grantfaults=1 on dom0's command line (see below: an open defect).

F=/sys/kernel/debug/fail_xen_reservation
FG=/sys/kernel/debug/fail_grant_op
FP=/sys/kernel/debug/fail_page_alloc
FS=/sys/kernel/debug/failslab
hexval() { echo $((0x$(cat $M/$1))); }
xen_minus_cur() { echo $(($(xenpages 0) - $(cur_kb))); }
net_out() { echo $(($(cat $M/stats/ballooned_out) - $(cat $M/stats/ballooned_in))); }
memavail_mib() { awk '$1 == "MemAvailable:" { print int($2 / 1024) }' /proc/meminfo; }
# wait_console PATTERN SECONDS: wait until the domU console $C shows
# PATTERN. The domU's checks take minutes on a debug or KASAN kernel: say so
# every minute (the rig stops a boot that is silent for 300 s).
wait_console() {
	local w=0
	while ! grep -q "$1" $C; do
		[ $w -ge "$2" ] && return 1
		# A domU that oopsed will not get there: show the report at once.
		if grep -q -E "Oops|BUG:|WARNING:|Kernel panic|UBSAN:" $C; then
			echo "faults: the domU reported while waiting for '$1':"
			grep -m1 -B2 -A45 -E "Oops|BUG:|WARNING:|Kernel panic|UBSAN:" $C |
				cut -c1-200 | sed 's/^/    /'
			return 1
		fi
		sleep 10
		w=$((w + 10))
		if [ $((w % 60)) = 0 ]; then
			echo "faults: waiting $w s for '$1' on the domU console, which ends:"
			tail -3 $C | cut -c1-160 | sed 's/^/    /'
		fi
	done
	return 0
}
# inject DIR PROBABILITY INTERVAL TIMES [FILTER]: arm one fault attribute,
# quietly (verbose 0: no stack dump per failure). The task filter is set
# first: until it is, the attribute would fail any task's allocations.
inject() {
	[ -z "$5" ] || echo "$5" > $1/task-filter
	echo 0 > $1/verbose
	echo "$3" > $1/interval
	echo "$4" > $1/times
	echo "$2" > $1/probability
}
disarm() { for d in $F $FP $FS $FG; do echo 0 > $d/probability; done; }

faults_main() {
	if [ ! -d $F ] || [ ! -d $FP ] || [ ! -d $FS ] || [ ! -d $FG ]; then
		fail faults-attributes "missing under /sys/kernel/debug: $(ls /sys/kernel/debug | tr '\n' ' ')"
		return
	fi
	pass faults-attributes
	toolstack_up || fail faults-toolstack "toolstack did not start"

	# ---- dom0: balloon cycles of 32 MiB under injection.
	S=$(cur_kb)
	OFF0=$(xen_minus_cur)
	OUT0=$(net_out)
	FREE0=$(freemem)
	echo "faults: dom0 at start: current_kb=$S xen-current=$OFF0 net_out=$OUT0 free_kb=$FREE0"
	# Retry at once and forever: injected failures must slow the balloon, not
	# stop it.
	echo 1 > $M/max_schedule_delay
	echo 0 > $M/max_retry_count
	BT=$(kthread_pid xen-balloon)
	echo 1 > /proc/$BT/make-it-fail
	inject $F 30 1 40
	for d in $FP $FS; do
		echo N > $d/ignore-gfp-wait
	done
	echo N > $FP/ignore-gfp-highmem
	# The balloon allocates single pages: order 0 (the default minimum is 1).
	echo 0 > $FP/min-order
	inject $FP 100 300 20 Y
	inject $FS 20 1 10 Y
	ok=0
	for i in 1 2 3 4 5 6; do
		balloon_to $((S - 32768)) 240 || break
		balloon_to $S 240 || break
		ok=$i
	done
	fired="xen_reservation=$((40 - $(cat $F/times))) page_alloc=$((20 - $(cat $FP/times))) slab=$((10 - $(cat $FS/times)))"
	disarm
	echo 0 > /proc/$BT/make-it-fail
	echo "faults: dom0 after $ok cycles: current_kb=$(cur_kb) target_kb=$(cat $M/target_kb) fired: $fired"
	expect dom0-faults-cycles-complete "$ok" 6
	balloon_to $S 120
	expect dom0-faults-target-restored "$(cur_kb)" "$S"
	expect dom0-faults-current-kb-matches-xen "$(xen_minus_cur)" "$OFF0"
	expect dom0-faults-stats-balance "$(net_out)" "$OUT0"
	case $fired in
	*xen_reservation=0*|*page_alloc=0*) fail dom0-faults-injected "a fault never fired: $fired" ;;
	*) pass dom0-faults-injected ;;
	esac
	n=$(dmesg | grep -c "decrease_reservation: Xen took")
	if [ "$n" -gt 0 ]; then pass dom0-faults-partial-decrease-handled; else
		fail dom0-faults-partial-decrease-handled "no partial decrease logged"; fi
	back() { near "$(freemem)" "$FREE0" 4096; }
	if wait_until 60 back; then pass dom0-faults-free-memory-back; else
		fail dom0-faults-free-memory-back "free_kb $(freemem), was $FREE0"; fi
	out=$(memfill $(($(memavail_mib) * 3 / 4)) 2>&1)
	case $out in
	*" ok") pass dom0-faults-free-memory-backed ;;
	*) fail dom0-faults-free-memory-backed "$out" ;;
	esac
	echo 32 > $M/max_schedule_delay
	echo 4 > $M/max_retry_count

	# ---- Grant maps and copies while Xen answers GNTST_eagain (retried)
	# or an error (reaching gntdev): every mapping and copy is right or
	# refused with its destination untouched, and nothing stays mapped.
	. /tests/grantfaults.sh
	GS=/sys/module/grant_table/stats
	used() { awk '{ print $1 - $2 }' $GS/entries; }
	bsum() { echo $(($(cat $M/info/low_kb) + $(cat $M/info/high_kb) + $(cat $M/info/current_kb))); }
	USED0=$(used) DEF0=$(cat $GS/deferred) BSUM0=$(bsum)
	r=$(grant_fault_runs 12 8 0)
	echo "faults: grant ops answering GNTST_eagain: $r"
	expect grant-faults-eagain-mappings-right "$(gf_field "$r" ok)" 8
	expect grant-faults-eagain-copies-complete "$(gf_field "$r" copyfail)" 0
	if [ "$(gf_field "$r" fired)" -gt 0 ]; then pass grant-faults-eagain-injected; else
		fail grant-faults-eagain-injected "no fail_grant_op fault fired"; fi
	r=$(grant_fault_runs 1 12 0)
	echo "faults: grant ops answering GNTST_general_error: $r"
	expect grant-faults-error-right-or-refused "$(gf_field "$r" bad)" 0
	if [ $(($(gf_field "$r" refused) + $(gf_field "$r" copyfail))) -gt 0 ]; then
		pass grant-faults-error-reached-callers
	else
		fail grant-faults-error-reached-callers "no mapping refused, no copy failed: $r"
	fi
	out=$(gntloop -n 64 -c 2>&1)
	case $out in
	*"gntloop: ok") pass grant-faults-after-errors-ok ;;
	*) fail grant-faults-after-errors-ok "$(echo "$out" | tail -2 | tr '\n' ' ')" ;;
	esac
	gback() { [ "$(used)" = "$USED0" ] && [ "$(cat $GS/pending)" = 0 ]; }
	if wait_until 30 gback; then pass grant-faults-references-back; else
		fail grant-faults-references-back "used $(used) (was $USED0), pending $(cat $GS/pending)"; fi
	expect grant-faults-nothing-deferred "$(cat $GS/deferred)" "$DEF0"
	bback() { [ "$(bsum)" = "$BSUM0" ]; }
	if wait_until 30 bback; then pass grant-faults-borrowed-pages-back; else
		fail grant-faults-borrowed-pages-back "balloon sum $(bsum) KiB, was $BSUM0"; fi

	# ---- gntalloc and gntdev while the allocations of the process using
	# them fail (fail_page_alloc and failslab filtered to that process;
	# user-space pages, which are highmem-capable, are spared): each run
	# completes or fails cleanly with an errno, its data never wrong;
	# afterwards every reference, page and slab object is back (kmemleak
	# checks the last).
	# Pages at 10 %: gntalloc takes the pages of a request from the bulk
	# allocator, which consults fail_page_alloc once per request, so at 3 %
	# one run in several saw no page fault at all.
	echo Y > $FP/ignore-gfp-highmem
	inject $FP 10 1 30 Y
	inject $FS 3 1 30 Y
	ok=0 failed=0 bad=0
	# Odd runs share one page at a time (gntalloc's one-page path, whose
	# page and record are allocated apart), even runs eight.
	for i in 1 2 3 4 5 6 7 8 9 10 11 12; do
		out=$(gntloop -F -n $((i % 2 ? 1 : 8)) -c 2>&1)
		rc=$?
		case $rc:$out in
		0:*"gntloop: ok") ok=$((ok + 1)) ;;
		1:*"gntloop: "*": E"*) failed=$((failed + 1)); echo "faults: gntloop $i: $(echo "$out" | tail -1)" ;;
		*) bad=$((bad + 1)); echo "faults: gntloop $i (exit $rc): $(echo "$out" | tail -2 | tr '\n' ' ')" ;;
		esac
	done
	afired="page_alloc=$((30 - $(cat $FP/times))) slab=$((30 - $(cat $FS/times)))"
	disarm
	echo N > $FP/ignore-gfp-highmem
	echo "faults: gntalloc+gntdev under allocation failures: ok=$ok failed=$failed bad=$bad fired: $afired"
	expect grant-alloc-faults-no-wrong-page "$bad" 0
	case $afired in
	*=0*) fail grant-alloc-faults-injected "a fault never fired: $afired" ;;
	*) pass grant-alloc-faults-injected ;;
	esac
	out=$(gntloop -n 64 -c 2>&1)
	case $out in
	*"gntloop: ok") pass grant-alloc-faults-after-ok ;;
	*) fail grant-alloc-faults-after-ok "$(echo "$out" | tail -2 | tr '\n' ' ')" ;;
	esac
	if wait_until 30 gback; then pass grant-alloc-faults-references-back; else
		fail grant-alloc-faults-references-back "used $(used) (was $USED0), pending $(cat $GS/pending)"; fi
	if wait_until 30 bback; then pass grant-alloc-faults-borrowed-pages-back; else
		fail grant-alloc-faults-borrowed-pages-back "balloon sum $(bsum) KiB, was $BSUM0"; fi

	# ---- A PVH domU: the initial balloon-down (2 MiB blocks, then single
	# pages once Xen refuses a block) with Xen taking part of what it is
	# given. It runs the KASAN kernel (maxmem twice its memory: at four
	# times, KASAN's shadow of maxmem leaves the balloon too little to give
	# back and the initial balloon-down fails, "Initial ballooning failed").
	# The early release at boot (256 MiB above the target plus 32 MiB of
	# slack, in batches of 128 MiB) is cut short: its second batch asks Xen
	# for fewer chunks than it chose (fail_xen_pod_release=2,100,0,1), so
	# the release stops there, having given back the first batch and part
	# of the second, and the balloon gives back the rest under faults.
	# Every second hypercall may stop early (interval 2), never two in a
	# row: max_retry_count (4) failed tries in a row would cancel the
	# balloon-down, and the boot would stop after balloon_boot_timeout, as
	# with C (the dom0 part above retries without limit instead).
	C=/var/log/xen/console/guest-pvf.log
	GRANTFAULTS=$(sed -n 's/.*xenrig\.grantfaults=\([01]\).*/\1/p' /proc/cmdline)
	if domu_start pvf 256 512 "fail_xen_reservation=2,50,0,40 fail_xen_pod_release=2,100,0,1 xenrig.role=memcheck xenrig.grantfaults=${GRANTFAULTS:-0}" pvh; then
		pass domu-faults-boot
		rel=$(sed -n 's/.*xen: released \([0-9]*\) MiB above the populate-on-demand target.*/\1/p' $C | head -1)
		echo "faults: pvf's early release: $(grep -m1 'above the populate-on-demand target' $C)"
		if [ -n "$rel" ] && [ "$rel" -ge 128 ] && [ "$rel" -lt 256 ]; then
			pass domu-faults-early-release-stopped-at-partial-batch
		else
			fail domu-faults-early-release-stopped-at-partial-batch "released '$rel' MiB early, want 128 to 254"
		fi
		# gntdev's DMA buffers in the domU (memcheck role) while Xen takes
		# (fail_gnttab_dma_decrease) or gives back (..._increase) only part
		# of their frames: a buffer Xen took part of is refused (ENOMEM)
		# and the part given back, one Xen gave back only part of is
		# leaked with a warning; Xen's page count of the domain moves by
		# exactly the frames leaked, and the pattern below finds no free
		# page without memory behind it.
		if wait_console "XENRIG-DOMU-DMABUF [rn]" 900 &&
			grep -q "XENRIG-DOMU-DMABUF ready" $C; then
			id=$(xl domid pvf)
			n0=$(xen_nr_pages "$id")
			xenstore-write /local/domain/$id/data/dma go
			wait_console "XENRIG-DOMU-DMABUF after" 300
			n1=$(xen_nr_pages "$id")
			xenstore-write /local/domain/$id/data/dma checked
			dma() { tr -d '\r' < $C | sed -n "s/.*XENRIG-DOMU-DMABUF $1 //p" | tail -1; }
			# "leaking a DMA buffer of N pages: Xen gave back only G of its T frames"
			leaked=$(tr -d '\r' < $C | sed -n 's/.*leaking a DMA buffer of [0-9]* pages: Xen gave back only \([0-9]*\) of its \([0-9]*\) frames.*/\2 \1/p' |
				awk '{ n += $1 - $2; b++ } END { print n + 0, b + 0 }')
			echo "faults: DMA buffers: plain: $(dma plain); decrease: $(dma decrease); increase: $(dma increase); after: $(dma after); leaked (frames buffers): $leaked; Xen's nr_pages $n0 -> $n1"
			expect domu-dma-buffers-made-and-freed "$(dma plain)" "gntdma: runs=4 mapfail=4 allocfail=0 ok=0 other=0"
			d=$(dma decrease)
			if [ "$(field fired "$d")" = 6 ] && [ "$(field allocfail "$d")" = 6 ] &&
				[ "$(field other "$d")" = 0 ]; then
				pass domu-dma-partial-decrease-refused
			else
				fail domu-dma-partial-decrease-refused "$d (want allocfail=6 fired=6)"
			fi
			d=$(dma increase)
			if [ "$(field fired "$d")" = 2 ] && [ "$(field mapfail "$d")" = 2 ] &&
				[ "${leaked#* }" = 2 ]; then
				pass domu-dma-partial-increase-leaks-buffer
			else
				fail domu-dma-partial-increase-leaks-buffer "$d, $leaked (frames buffers) leaked, want 2 buffers"
			fi
			expect domu-dma-buffers-after-faults "$(dma after)" "gntdma: runs=2 mapfail=2 allocfail=0 ok=0 other=0"
			expect domu-dma-xen-count-moves-by-leaked-frames "$((n1 - n0))" "$((0 - ${leaked% *}))"
		else
			fail domu-dma-ran "$(grep -a -m1 'XENRIG-DOMU-DMABUF' $C || echo 'no XENRIG-DOMU-DMABUF line')"
		fi
		if wait_console XENRIG-DOMU-MEMCHECK 600; then
			if grep -q "XENRIG-DOMU-MEMCHECK ok" $C; then pass domu-faults-free-memory-backed
			else fail domu-faults-free-memory-backed "$(grep -m1 XENRIG-DOMU-MEMCHECK $C)"; fi
		else
			fail domu-faults-free-memory-backed "no memcheck line"
		fi
		# The domU's own grant runs (xenrig.grantfaults=1) are off: a PVH
		# domain that maps its own gntalloc grants with gntdev corrupts its
		# memory with the C drivers as with the Rust ones, without fault
		# injection and without populate-on-demand (memory = maxmem): the
		# processes exiting next oops in unmap_page_range(), or "bad pmd
		# ...(ffffffffffffffff)", the all-ones an HVM-type guest reads from a
		# frame Xen no longer backs. PV domUs do not (gntdev maps through
		# page-table entries there). xenrig.grantfaults=1 on dom0's command
		# line (the faults entry of BOOTS in tools/rig/run.py) turns them on.
		if [ "$GRANTFAULTS" != 1 ]; then
			:
		elif wait_console "XENRIG-DOMU-GRANTFAULTS after" 900; then
			e=$(sed -n 's/.*XENRIG-DOMU-GRANTFAULTS eagain //p' $C | tr -d '\r')
			r=$(sed -n 's/.*XENRIG-DOMU-GRANTFAULTS error //p' $C | tr -d '\r')
			a=$(sed -n 's/.*XENRIG-DOMU-GRANTFAULTS after //p' $C | tr -d '\r')
			echo "faults: domU grant ops: eagain: $e; error: $r; after: $a"
			if [ "$(gf_field "$e" ok)" = 4 ] && [ "$(gf_field "$e" copyfail)" = 0 ] &&
				[ "$(gf_field "$e" fired)" -gt 0 ]; then
				pass domu-grant-faults-eagain-right
			else
				fail domu-grant-faults-eagain-right "$e"
			fi
			if [ "$(gf_field "$r" bad)" = 0 ] &&
				[ $(($(gf_field "$r" refused) + $(gf_field "$r" copyfail))) -gt 0 ]; then
				pass domu-grant-faults-error-right-or-refused
			else
				fail domu-grant-faults-error-right-or-refused "$r"
			fi
			u=$(gf_field "$a" used) d=$(gf_field "$a" deferred)
			case $a in
			"gntloop: ok "*) if [ "${u%,*}" = "${u#*,}" ] && [ "${d%,*}" = "${d#*,}" ]; then
				pass domu-grant-faults-after-ok-nothing-left
				else fail domu-grant-faults-after-ok-nothing-left "$a"; fi ;;
			*) fail domu-grant-faults-after-ok-nothing-left "$a" ;;
			esac
		else
			fail domu-grant-faults-ran "no XENRIG-DOMU-GRANTFAULTS after line: $(grep -E 'GRANTFAULTS|grantfaults|gntloop' $C | tail -3)"
			# Where the domU's tasks wait (sysrq w: blocked tasks).
			xl sysrq pvf w >/dev/null 2>&1
			sleep 5
			echo "--- pvf console, last lines:"
			tail -60 $C | sed 's/^/    /'
		fi
		if grep -q "xen:balloon: Initial ballooning down finished." $C ||
			! grep -q "Waiting for initial ballooning" $C; then
			pass domu-faults-initial-balloon-down
		else
			fail domu-faults-initial-balloon-down "$(grep 'xen:balloon' $C | tail -2)"
		fi
		if wait_until 60 domu_mem_near pvf 256; then pass domu-faults-xen-count-at-target
		else fail domu-faults-xen-count-at-target "xl list says $(domu_mem pvf) MiB, want 256"; fi
		xl mem-set pvf 192m
		if wait_until 90 domu_mem_near pvf 192; then pass domu-faults-mem-set-down
		else fail domu-faults-mem-set-down "xl list says $(domu_mem pvf) MiB, want 192"; fi
		if grep -q -E "Oops|BUG:|WARNING:|Kernel panic|UBSAN:" $C; then
			fail domu-faults-kernel-log-clean "$(grep -m1 -E 'Oops|BUG:|WARNING:|Kernel panic|UBSAN:' $C)"
		else
			pass domu-faults-kernel-log-clean
		fi
		if timeout 120 xl shutdown -w pvf >/dev/null 2>&1 && wait_until 30 domu_gone pvf; then
			pass domu-faults-shutdown
		else
			fail domu-faults-shutdown "pvf still listed"
			xl destroy pvf 2>/dev/null
		fi
	else
		fail domu-faults-boot "$(tail -5 $C 2>/dev/null) $(tail -3 /tmp/xl-create-pvf.log)"
		echo "--- pvf console around the first report:"
		grep -m1 -B10 -A40 -E "Oops|BUG:|WARNING:|Kernel panic|UBSAN:" $C | sed 's/^/    /'
	fi
	echo "--- pvf console (balloon lines):"
	grep -i -E 'balloon|Xen took|Xen refused|memcheck|grant' $C 2>/dev/null | tail -12 | sed 's/^/    /'
}
faults_main

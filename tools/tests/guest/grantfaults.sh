# SPDX-License-Identifier: GPL-2.0
# Sourced by the faults suite (dom0) and the memcheck role (PVH domU):
# gntdev maps and copies pages that gntalloc shares while the grant table's
# fail_grant_op fault attribute fires.

# grant_fault_runs STATUS RUNS DOMID [PAGES]: arm fail_grant_op so that the
# operations it holds back answer GNTST_ code -STATUS (12: GNTST_eagain, which
# the grant table retries; 1: GNTST_general_error, which reaches gntdev), run
# "gntloop -n PAGES -c" (default 64) RUNS times (with -e unless STATUS is 12: a refused
# mapping or a failed copy segment is then an expected answer, checked for
# leaving everything unchanged), and print one line:
# "ok=N refused=N copyfail=N bad=N fired=N". What went wrong in a run goes
# to stderr.
grant_fault_runs() {
	local fg=/sys/kernel/debug/fail_grant_op st=$1 runs=$2 dom=$3 pages=${4:-64}
	local ok=0 refused=0 cf=0 bad=0 i out rc n e=
	[ "$st" = 12 ] || e=-e
	echo "$st" > $fg/status
	echo 0 > $fg/verbose
	echo 1 > $fg/interval
	echo 40 > $fg/times
	echo 30 > $fg/probability
	i=0
	while [ $i -lt "$runs" ]; do
		i=$((i + 1))
		out=$(gntloop -n "$pages" -c $e -d "$dom" 2>&1)
		rc=$?
		case $rc in
		0) ok=$((ok + 1)) ;;
		3) refused=$((refused + 1)) ;;
		*)
			bad=$((bad + 1))
			echo "grantfaults: status $st run $i: $(echo "$out" | tail -3 | tr '\n' ' ')" >&2
			;;
		esac
		n=$(echo "$out" | sed -n 's/^copy_failed=//p')
		cf=$((cf + ${n:-0}))
	done
	n=$((40 - $(cat $fg/times)))
	echo 0 > $fg/probability
	echo 12 > $fg/status
	echo "ok=$ok refused=$refused copyfail=$cf bad=$bad fired=$n"
}

# The value of KEY in a grant_fault_runs line.
gf_field() { echo "$1" | tr ' ' '\n' | sed -n "s/^$2=//p"; }

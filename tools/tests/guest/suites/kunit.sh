# SPDX-License-Identifier: GPL-2.0
# Booted with kunit.enable=1: the kernel ran its built-in KUnit suites before
# /init, among them (rust variant) the doctests of the kernel crate, which
# include the examples of this project's abstractions, and the Rust balloon's
# own suite (xen_balloon_rust). Every suite must report no failure, and ours
# must be among those that ran.
K=/tmp/kunit.log
dmesg > $K
summaries=$(grep -o '# [a-z0-9_]*: pass:[0-9]* fail:[0-9]* skip:[0-9]* total:[0-9]*' $K)
echo "kunit: suite summaries:"
echo "$summaries" | sed 's/^/    /'
if [ "$(drivers)" = c ]; then
	# The c variant has KUnit but no Rust (so no doctests) and no suites.
	expect kunit-c-has-no-rust-doctests "$(grep -c rust_doctest $K)" 0
elif [ -z "$summaries" ]; then
	fail kunit-suites-ran "no KUnit summary in the kernel log"
else
	pass kunit-suites-ran
	bad=$(echo "$summaries" | grep -v ' fail:0 ')
	expect kunit-no-failures "$bad" ""
fi
if [ "$(drivers)" = rust ]; then
	# The Rust balloon's own suite (balloon_test.c): every page
	# xen_alloc_ballooned_pages() lends is Xen's, also after partial
	# decreases (injected where the kernel has fault injection).
	# One case: KUnit prints no "pass:" summary for it, only the suite's
	# KTAP result line ("ok N xen_balloon_rust" or "not ok N ...").
	if grep -q -E 'not ok [0-9]+ xen_balloon_rust' $K; then
		fail kunit-balloon-lent-pages-are-xens "$(grep -m3 -E 'lent page|partial results|xen_balloon' $K | tr '\n' ' ')"
	elif grep -q -E '(^|\] )ok [0-9]+ xen_balloon_rust$' $K; then
		pass kunit-balloon-lent-pages-are-xens
	else
		fail kunit-balloon-lent-pages-are-xens "suite did not run"
	fi
	grep -E 'partial results injected' $K | sed 's/^/    /'
	# Doctest cases are named after the file: rust/kernel/sysfs.rs gives
	# rust_doctest_kernel_sysfs_rs_0, _1, ...
	for f in sysfs global; do
		case_re="rust_doctest_kernel_${f}_rs_[0-9]*"
		n=$(grep -c "ok [0-9]* $case_re" $K)
		notok=$(grep -c "not ok [0-9]* $case_re" $K)
		if [ "$n" -gt 0 ] && [ "$notok" = 0 ]; then
			pass "kunit-rust-doctests-$f-pass"
		else
			fail "kunit-rust-doctests-$f-pass" "$n ran, $notok failed: $(grep "$case_re" $K | head -5)"
		fi
	done
fi

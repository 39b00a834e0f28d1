// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit test of the Rust balloon driver, included at the end of
 * balloon_exports.c (CONFIG_XEN_BALLOON_RUST_KUNIT_TEST) to reach its fault
 * attribute.
 *
 * xen_alloc_ballooned_pages() lends gntdev, privcmd and the PV back ends
 * pages that Xen holds: they map foreign frames over them, so a page still
 * backed by the guest would carry whatever it held before (not zeroed:
 * init_on_alloc is skipped, and Qubes boots with xen_scrub_pages=0). With
 * CONFIG_FAULT_INJECTION the test makes Xen take back only part of what the
 * balloon gives it (fail_xen_reservation), which is when a page Xen refused
 * could wrongly stay in the balloon's list, and borrows until the loan
 * succeeds. On a PV guest each lent page must then have no frame in the
 * P2M. An auto-translated guest has no such record of its own (its P2M is
 * Xen's), so the test is skipped there.
 */
#include <kunit/test.h>
#include <linux/slab.h>
#include <xen/balloon.h>
#include <xen/features.h>
#include <xen/page.h>
#include <xen/xen.h>

#define XEN_BALLOON_TEST_PAGES 512
#define XEN_BALLOON_TEST_TRIES 64
/* The balloon may hold pages already (a PV guest's extra memory): 128 MiB. */
#define XEN_BALLOON_TEST_BATCHES 64

/* Borrows one batch, trying again while the loan fails for lack of pages. */
static int xen_balloon_test_borrow(struct page **pages, unsigned int *refused)
{
	int ret;

	do {
		ret = xen_alloc_ballooned_pages(XEN_BALLOON_TEST_PAGES, pages);
	} while (ret == -ENOMEM && ++*refused < XEN_BALLOON_TEST_TRIES);
	return ret;
}

/* How many of the batch's pages still have a frame in the P2M. */
static unsigned int xen_balloon_test_backed(struct kunit *test,
					    struct page **pages)
{
	unsigned int i, backed = 0;

	for (i = 0; i < XEN_BALLOON_TEST_PAGES; i++) {
		unsigned long pfn = page_to_pfn(pages[i]);

		if (__pfn_to_mfn(pfn) != INVALID_P2M_ENTRY) {
			if (!backed)
				kunit_err(test, "lent page %u (pfn %#lx) is backed by mfn %#lx",
					  i, pfn, __pfn_to_mfn(pfn));
			backed++;
		}
	}
	return backed;
}

static void xen_balloon_test_lent_pages_are_xens(struct kunit *test)
{
	struct page **pages[XEN_BALLOON_TEST_BATCHES];
	unsigned int b, nb = 0, refused = 0, backed = 0;
	int ret = 0;
#ifdef CONFIG_FAULT_INJECTION
	struct fault_attr *attr = &fail_xen_reservation;
	unsigned long probability = attr->probability;
	unsigned long interval = attr->interval;
	int verbose = attr->verbose, times = atomic_read(&attr->times);
	bool task_filter = attr->task_filter;
	int fired = 0;
#endif

	if (!xen_pv_domain())
		kunit_skip(test, "no guest-owned P2M to check (not a PV guest)");
#ifdef CONFIG_FAULT_INJECTION
	/* Half the reservation hypercalls stop early, quietly, for anyone. */
	attr->verbose = 0;
	attr->task_filter = false;
	attr->interval = 1;
	atomic_set(&attr->times, 1000);
	attr->probability = 50;
#endif
	/*
	 * Batch after batch, until the balloon had to ask Xen (and, with
	 * fault injection, Xen took only part of a request): the pages it
	 * holds already are lent first. A loan goes on after a partial result
	 * with the pages Xen took; it fails (-ENOMEM) only when Xen took none,
	 * and a later try may do better.
	 */
	while (nb < XEN_BALLOON_TEST_BATCHES) {
		pages[nb] = kunit_kcalloc(test, XEN_BALLOON_TEST_PAGES,
					  sizeof(*pages[nb]), GFP_KERNEL);
		if (!pages[nb])
			break;
		ret = xen_balloon_test_borrow(pages[nb], &refused);
		if (ret)
			break;
		nb++;
#ifdef CONFIG_FAULT_INJECTION
		fired = 1000 - atomic_read(&attr->times);
		if (fired > 0)
			break;
#else
		break;
#endif
	}
#ifdef CONFIG_FAULT_INJECTION
	attr->probability = probability;
	atomic_set(&attr->times, times);
	attr->interval = interval;
	attr->task_filter = task_filter;
	attr->verbose = verbose;
	kunit_info(test, "%u batches of %d pages lent, %d partial results injected, %u loans refused",
		   nb, XEN_BALLOON_TEST_PAGES, fired, refused);
	KUNIT_EXPECT_GT(test, fired, 0);
#endif
	KUNIT_EXPECT_EQ(test, ret, 0);
	for (b = 0; b < nb; b++) {
		backed += xen_balloon_test_backed(test, pages[b]);
		xen_free_ballooned_pages(XEN_BALLOON_TEST_PAGES, pages[b]);
	}
	KUNIT_EXPECT_EQ_MSG(test, backed, 0, "lent pages still backed");
}

static struct kunit_case xen_balloon_test_cases[] = {
	KUNIT_CASE(xen_balloon_test_lent_pages_are_xens),
	{}
};

static struct kunit_suite xen_balloon_test_suite = {
	.name = "xen_balloon_rust",
	.test_cases = xen_balloon_test_cases,
};

kunit_test_suite(xen_balloon_test_suite);

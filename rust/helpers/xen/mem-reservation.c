// SPDX-License-Identifier: GPL-2.0

#ifdef CONFIG_XEN
#include <xen/mem-reservation.h>

void rust_helper_xenmem_reservation_va_mapping_update(unsigned long count,
						      struct page **pages,
						      xen_pfn_t *frames)
{
	xenmem_reservation_va_mapping_update(count, pages, frames);
}

void rust_helper_xenmem_reservation_va_mapping_reset(unsigned long count,
						     struct page **pages)
{
	xenmem_reservation_va_mapping_reset(count, pages);
}
#endif

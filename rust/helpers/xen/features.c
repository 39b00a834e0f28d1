// SPDX-License-Identifier: GPL-2.0

#ifdef CONFIG_XEN
#include <xen/features.h>

int rust_helper_xen_feature(int flag)
{
	return xen_feature(flag);
}
#endif

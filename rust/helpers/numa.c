// SPDX-License-Identifier: GPL-2.0

#include <linux/numa.h>

#ifdef CONFIG_MEMORY_HOTPLUG
int rust_helper_memory_add_physaddr_to_nid(u64 start)
{
	return memory_add_physaddr_to_nid(start);
}
#endif

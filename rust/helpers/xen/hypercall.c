// SPDX-License-Identifier: GPL-2.0

#ifdef CONFIG_XEN
#include <asm/xen/hypercall.h>

int rust_helper_HYPERVISOR_grant_table_op(unsigned int cmd, void *uop,
					  unsigned int count)
{
	return HYPERVISOR_grant_table_op(cmd, uop, count);
}

int rust_helper_HYPERVISOR_memory_op(unsigned int cmd, void *arg)
{
	return HYPERVISOR_memory_op(cmd, arg);
}

#ifdef CONFIG_XEN_HAVE_PVMMU
int rust_helper_HYPERVISOR_multicall(void *call_list, uint32_t nr_calls)
{
	return HYPERVISOR_multicall(call_list, nr_calls);
}

void rust_helper_MULTI_update_va_mapping(struct multicall_entry *mcl,
					 unsigned long va, pte_t new_val,
					 unsigned long flags)
{
	MULTI_update_va_mapping(mcl, va, new_val, flags);
}
#endif
#endif

/* Globals run --set must refuse or warn about: a const that is not
 * volatile (clang folds its value into the code) and a volatile one no
 * instruction reads. */
#include "common.h"

const int folded_limit = 5;
const volatile __u32 unread_knob = 0;
const volatile __s32 signed_knob = 0;
__u64 seen = 0;

SEC("tracepoint/syscalls/sys_enter_getppid")
int count_getppid(void *ctx)
{
	if (signed_knob >= 0 && seen < folded_limit)
		__sync_fetch_and_add(&seen, 1);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";

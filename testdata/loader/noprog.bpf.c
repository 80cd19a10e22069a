/* An object with a map and no program: loading it must fail clearly. */
#include "common.h"

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} lonely SEC(".maps");

char LICENSE[] SEC("license") = "GPL";

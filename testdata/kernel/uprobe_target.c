/* The uretprobe test's target program (not BPF; the test builds it with
 * the host's C compiler as vmt_uprobe_target): vmt_sum(sum, i) for i in
 * 1..N (argv[1], default 1), then the sum. */
#include <stdio.h>
#include <stdlib.h>

__attribute__((noinline)) long vmt_sum(long a, long b)
{
	__asm__ volatile("");
	return a + b;
}

int main(int argc, char **argv)
{
	long n = argc > 1 ? atol(argv[1]) : 1, s = 0;

	for (long i = 1; i <= n; i++)
		s = vmt_sum(s, i);
	printf("%ld\n", s);
	return 0;
}

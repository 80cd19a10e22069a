/* The uretprobe example's target: a program whose readline() returns each
 * line it reads from standard input. */
#include <stdio.h>
#include <string.h>

static char buf[256];

__attribute__((noinline)) char *readline(const char *prompt)
{
	fputs(prompt, stdout);
	fflush(stdout);
	if (!fgets(buf, sizeof(buf), stdin))
		return NULL;
	buf[strcspn(buf, "\n")] = 0;
	return buf;
}

int main(void)
{
	char *line;

	while ((line = readline("> ")))
		printf("read: %s\n", line);
	return 0;
}

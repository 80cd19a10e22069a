/* x86_64.c: an ordinary x86-64 object, which bpfkit must refuse. */
int answer(void) { return 42; }

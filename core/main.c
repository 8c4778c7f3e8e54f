#include <stdio.h>
int main(void) { puts("greenroom"); return 0; }

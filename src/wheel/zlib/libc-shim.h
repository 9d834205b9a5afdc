/* zlib is built with Z_SOLO (no libc headers); these are the string.h functions its deflate calls. */
void *memcpy(void *d, const void *s, unsigned long n);
void *memset(void *d, int c, unsigned long n);

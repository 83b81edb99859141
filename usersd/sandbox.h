#ifndef TAKD_USERSD_SANDBOX_H
#define TAKD_USERSD_SANDBOX_H

#include <stddef.h>

/*
 * Confine this process, for good, to the files beneath DIR (the users
 * file's directory): read, write, create, remove and rename there; list
 * directories elsewhere; nothing else of the filesystem, no TCP.  0 done,
 * 1 the kernel has no Landlock (ERR says so; the caller decides), -1 an
 * error (ERR says which).
 */
int	 usersd_sandbox(const char *dir, char *err, size_t errlen);

#endif

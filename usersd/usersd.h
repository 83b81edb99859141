/*
 * takd-usersd, the helper that writes the users file for the admin
 * console (usersd/usersd.c; docs/security.md, "Console: who changes the
 * users file"), and its supervisor side (supervisor/usersd_proc.c).
 *
 * Descriptors it finds open when it starts:
 */
#ifndef TAKD_USERSD_H
#define TAKD_USERSD_H

#define USERSD_EXE		"takd-usersd"
#define USERSD_FD_SOCK		3	/* the channel to the supervisor */
#define USERSD_FD_LOG		4	/* the log file, with "-l file" */

#define USERSD_EX_START		2	/* cannot start */
#define USERSD_RATE		30	/* requests a minute, sustained */
#define USERSD_BURST		10	/* at once */

#endif

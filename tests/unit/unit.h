/*
 * Helpers shared by the unit tests (linked into every tests/unit binary).
 * They fail the running cmocka test on error.
 */
#ifndef TAKD_TESTS_UNIT_H
#define TAKD_TESTS_UNIT_H

#include <stddef.h>

/* A file's bytes, NUL-terminated one past len; free(data). */
struct blob {
	char	*data;
	size_t	 len;
};

/*
 * A sample event of tests/data/cot/ ($TESTDATA/cot, which tests/run.sh
 * exports).
 */
struct blob	 unit_sample(const char *name);

/* The descriptors this process has open. */
int		 unit_count_fds(void);

/*
 * A test's own directory, /tmp/takd-NAME-XXXXXX into dir: for a cmocka
 * setup.  -1 when it cannot be made.
 */
int		 unit_tmpdir_make(char *dir, size_t len, const char *name);
/*
 * For the teardown: dir and everything below it removed; -1 (said on
 * stderr) when it cannot be, or when the process has not nfds descriptors
 * open any more (unit_count_fds() at setup): a leak.
 */
int		 unit_tmpdir_remove(const char *dir, int nfds);

/* Fails the test unless the string hay contains needle (string.h). */
#define assert_contains(hay, needle) do {				\
	if (strstr((hay), (needle)) == NULL)				\
		fail_msg("\"%s\" does not contain \"%s\"", (hay),	\
		    (needle));						\
} while (0)

#endif

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

/* Fails the test unless the string hay contains needle (string.h). */
#define assert_contains(hay, needle) do {				\
	if (strstr((hay), (needle)) == NULL)				\
		fail_msg("\"%s\" does not contain \"%s\"", (hay),	\
		    (needle));						\
} while (0)

#endif

/* Helpers shared by the unit tests: see unit.h. */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include <cmocka.h>

#include "tests/unit/unit.h"

struct blob
unit_sample(const char *name)
{
	const char	*dir;
	char		 path[1024];
	struct blob	 b;
	FILE		*fp;
	long		 sz;

	/* tests/run.sh exports TESTDATA; by hand, run from the top. */
	if ((dir = getenv("TESTDATA")) == NULL)
		dir = "tests/data";
	snprintf(path, sizeof(path), "%s/cot/%s", dir, name);
	if ((fp = fopen(path, "rb")) == NULL)
		fail_msg("cannot open sample %s (set TESTDATA)", path);
	assert_int_equal(fseek(fp, 0, SEEK_END), 0);
	sz = ftell(fp);
	assert_true(sz >= 0);
	rewind(fp);
	b.len = (size_t)sz;
	b.data = malloc(b.len + 1);
	assert_non_null(b.data);
	assert_int_equal(fread(b.data, 1, b.len, fp), b.len);
	b.data[b.len] = '\0';
	fclose(fp);
	return (b);
}

int
unit_count_fds(void)
{
	DIR		*d;
	struct dirent	*de;
	int		 n = 0;

	d = opendir("/proc/self/fd");
	assert_non_null(d);
	while ((de = readdir(d)) != NULL)
		if (de->d_name[0] != '.')
			n++;
	closedir(d);
	return (n - 1);		/* the directory's own descriptor */
}

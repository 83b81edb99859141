/* Helpers shared by the unit tests: see unit.h. */
#include <sys/stat.h>

#include <dirent.h>
#include <ftw.h>
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

int
unit_tmpdir_make(char *dir, size_t len, const char *name)
{
	if ((size_t)snprintf(dir, len, "/tmp/takd-%s-XXXXXX", name) >= len ||
	    mkdtemp(dir) == NULL)
		return (-1);
	return (0);
}

static int
unit_rm_entry(const char *path, const struct stat *st, int flag,
    struct FTW *ftw)
{
	return (remove(path));
}

int
unit_tmpdir_remove(const char *dir, int nfds)
{
	int	 n, rc;

	rc = nftw(dir, unit_rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	if ((n = unit_count_fds()) != nfds) {
		fprintf(stderr, "%d descriptors leaked\n", n - nfds);
		return (-1);
	}
	return (rc);
}

/*
 * CoT times: ISO 8601 to Unix ms and back (see cot_parse.h, docs/cot.md
 * "Decisions").  Pure: no clock, no time zone of the process.
 */
#include <stdio.h>
#include <time.h>

#include "cot/cot_parse.h"

/* Exactly n decimal digits. */
static int
time_digits(const char *s, int n, int *out)
{
	int	 i, v = 0;

	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return (-1);
		v = v * 10 + (s[i] - '0');
	}
	*out = v;
	return (0);
}

static int
time_mdays(int y, int m)
{
	static const int days[12] = {
		31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31
	};

	if (m == 2 && (y % 4 == 0 && (y % 100 != 0 || y % 400 == 0)))
		return (29);
	return (days[m - 1]);
}

/* Days since 1970-01-01 of a proleptic Gregorian date (y >= 1). */
static int64_t
time_days(int y, int m, int d)
{
	int64_t	 yy = y, era, yoe, doy, doe;

	/* Count years from March, so that Feb 29 ends a year. */
	if (m <= 2)
		yy--;
	era = yy / 400;
	yoe = yy - era * 400;
	doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return (era * 146097 + doe - 719468);
}

int
cot_time_parse(const char *s, int64_t *ms)
{
	int	 y, mo, d, h, mi, sec, frac = 0, tzh = 0, tzm = 0, sign = 0;
	int	 scale = 100;
	int64_t	 t;

	if (time_digits(s, 4, &y) == -1 || s[4] != '-' ||
	    time_digits(s + 5, 2, &mo) == -1 || s[7] != '-' ||
	    time_digits(s + 8, 2, &d) == -1 || (s[10] != 'T' && s[10] != 't') ||
	    time_digits(s + 11, 2, &h) == -1 || s[13] != ':' ||
	    time_digits(s + 14, 2, &mi) == -1 || s[16] != ':' ||
	    time_digits(s + 17, 2, &sec) == -1)
		return (-1);
	s += 19;
	if (*s == '.') {
		s++;
		if (*s < '0' || *s > '9')
			return (-1);
		for (; *s >= '0' && *s <= '9'; s++) {
			frac += (*s - '0') * scale;
			scale /= 10;	/* digits past ms are dropped */
		}
	}
	if (*s == 'Z' || *s == 'z')
		s++;
	else if (*s == '+' || *s == '-') {
		sign = *s++ == '+' ? 1 : -1;
		if (time_digits(s, 2, &tzh) == -1)
			return (-1);
		s += 2;
		if (*s == ':')
			s++;
		if (*s != '\0') {
			if (time_digits(s, 2, &tzm) == -1)
				return (-1);
			s += 2;
		}
	}
	if (*s != '\0')
		return (-1);
	if (y < 1 || mo < 1 || mo > 12 || d < 1 || d > time_mdays(y, mo) ||
	    h > 23 || mi > 59 || sec > 60 || tzh > 23 || tzm > 59)
		return (-1);
	t = time_days(y, mo, d);
	t = ((t * 24 + h) * 60 + mi) * 60 + sec;
	t -= (int64_t)sign * (tzh * 3600 + tzm * 60);
	*ms = t * 1000 + frac;
	return (0);
}

size_t
cot_time_format(int64_t ms, char *buf, size_t len)
{
	struct tm	 tm;
	time_t		 secs;
	int64_t		 s, rem;
	int		 n;

	s = ms / 1000;
	rem = ms % 1000;
	if (rem < 0) {
		rem += 1000;
		s--;
	}
	secs = (time_t)s;
	if (gmtime_r(&secs, &tm) == NULL || tm.tm_year + 1900 < 1 ||
	    tm.tm_year + 1900 > 9999)
		goto fail;
	n = snprintf(buf, len, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ",
	    tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
	    tm.tm_min, tm.tm_sec, (int)rem);
	if (n < 0 || (size_t)n >= len)
		goto fail;
	return ((size_t)n);
fail:
	if (len > 0)
		buf[0] = '\0';
	return (0);
}

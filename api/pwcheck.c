/*
 * One thread for the password checks of enrollment: see pwcheck.h.
 */
#include <sys/eventfd.h>

#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>
#include <openssl/crypto.h>

#include "api/pwcheck.h"
#include "shared/password.h"
#include "shared/users.h"

#define PWCHECK_MAGIC	0x50574348u	/* "PWCH" */

struct pwcheck_job {
	struct pwcheck_job *next;
	pwcheck_done_fn	 done;
	void		*arg;
	bool		 match;
	char		 password[PASSWORD_MAX + 1];
	char		 hash[USERS_HASH_MAX];
};

struct pwcheck {
	unsigned	 magic;
	pthread_t	 thread;
	pthread_mutex_t	 mu;
	pthread_cond_t	 cv;
	bool		 stop;
	/* Both FIFO, under mu: to check, and checked for the loop. */
	struct pwcheck_job *todo, **todo_tail;
	struct pwcheck_job *done, **done_tail;
	unsigned	 pending;	/* the loop's: submitted, not called */
	int		 efd;		/* the thread tells the loop */
	struct event	*ev;
};

static void
pwcheck_job_free(struct pwcheck_job *j)
{
	OPENSSL_cleanse(j->password, sizeof(j->password));
	free(j);
}

static void *
pwcheck_main(void *arg)
{
	struct pwcheck		*pw = arg;
	struct pwcheck_job	*j;
	uint64_t		 one = 1;

	pthread_mutex_lock(&pw->mu);
	for (;;) {
		while (pw->todo == NULL && !pw->stop)
			pthread_cond_wait(&pw->cv, &pw->mu);
		if (pw->stop)
			break;
		j = pw->todo;
		if ((pw->todo = j->next) == NULL)
			pw->todo_tail = &pw->todo;
		pthread_mutex_unlock(&pw->mu);
		j->match = password_verify(j->password, j->hash);
		OPENSSL_cleanse(j->password, sizeof(j->password));
		pthread_mutex_lock(&pw->mu);
		j->next = NULL;
		*pw->done_tail = j;
		pw->done_tail = &j->next;
		/* A full counter (never: 2^64 - 1) only delays the loop. */
		(void)write(pw->efd, &one, sizeof(one));
	}
	pthread_mutex_unlock(&pw->mu);
	return (NULL);
}

/* On the loop: call back what the thread checked. */
static void
pwcheck_wake(evutil_socket_t fd, short what, void *arg)
{
	struct pwcheck		*pw = arg;
	struct pwcheck_job	*j, *next;
	uint64_t		 n;

	(void)what;
	(void)read(fd, &n, sizeof(n));
	pthread_mutex_lock(&pw->mu);
	j = pw->done;
	pw->done = NULL;
	pw->done_tail = &pw->done;
	pthread_mutex_unlock(&pw->mu);
	for (; j != NULL; j = next) {
		next = j->next;
		pw->pending--;
		j->done(j->arg, j->match);
		pwcheck_job_free(j);
	}
}

struct pwcheck *
pwcheck_new(struct event_base *base, char *err, size_t errlen)
{
	struct pwcheck	*pw;
	int		 rc;

	if ((pw = calloc(1, sizeof(*pw))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return (NULL);
	}
	pw->efd = -1;
	pw->todo_tail = &pw->todo;
	pw->done_tail = &pw->done;
	if (pthread_mutex_init(&pw->mu, NULL) != 0 ||
	    pthread_cond_init(&pw->cv, NULL) != 0) {
		snprintf(err, errlen, "pthread: cannot make a mutex");
		free(pw);
		return (NULL);
	}
	if ((pw->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) == -1) {
		snprintf(err, errlen, "eventfd: %s", strerror(errno));
		goto fail;
	}
	if ((pw->ev = event_new(base, pw->efd, EV_READ | EV_PERSIST,
	    pwcheck_wake, pw)) == NULL || event_add(pw->ev, NULL) == -1) {
		snprintf(err, errlen, "libevent: cannot watch the eventfd");
		goto fail;
	}
	if ((rc = pthread_create(&pw->thread, NULL, pwcheck_main, pw)) != 0) {
		snprintf(err, errlen, "pthread_create: %s", strerror(rc));
		goto fail;
	}
	pw->magic = PWCHECK_MAGIC;
	return (pw);
 fail:
	if (pw->ev != NULL)
		event_free(pw->ev);
	if (pw->efd != -1)
		close(pw->efd);
	pthread_cond_destroy(&pw->cv);
	pthread_mutex_destroy(&pw->mu);
	free(pw);
	return (NULL);
}

int
pwcheck_submit(struct pwcheck *pw, const char *password, const char *hash,
    pwcheck_done_fn done, void *arg)
{
	struct pwcheck_job	*j;

	if (pw == NULL || pw->magic != PWCHECK_MAGIC)
		abort();
	if (strlen(password) >= sizeof(j->password) ||
	    strlen(hash) >= sizeof(j->hash) ||
	    (j = calloc(1, sizeof(*j))) == NULL)
		return (-1);
	memcpy(j->password, password, strlen(password) + 1);
	memcpy(j->hash, hash, strlen(hash) + 1);
	j->done = done;
	j->arg = arg;
	pw->pending++;
	pthread_mutex_lock(&pw->mu);
	*pw->todo_tail = j;
	pw->todo_tail = &j->next;
	pthread_cond_signal(&pw->cv);
	pthread_mutex_unlock(&pw->mu);
	return (0);
}

unsigned
pwcheck_pending(const struct pwcheck *pw)
{
	return (pw != NULL ? pw->pending : 0);
}

static void
pwcheck_drop(struct pwcheck_job *j)
{
	struct pwcheck_job	*next;

	for (; j != NULL; j = next) {
		next = j->next;
		pwcheck_job_free(j);
	}
}

void
pwcheck_free(struct pwcheck *pw)
{
	if (pw == NULL)
		return;
	pthread_mutex_lock(&pw->mu);
	pw->stop = true;
	pthread_cond_signal(&pw->cv);
	pthread_mutex_unlock(&pw->mu);
	/* At most one check (20 ms) to wait for. */
	pthread_join(pw->thread, NULL);
	pwcheck_drop(pw->todo);
	pwcheck_drop(pw->done);
	event_free(pw->ev);
	close(pw->efd);
	pthread_cond_destroy(&pw->cv);
	pthread_mutex_destroy(&pw->mu);
	pw->magic = 0;
	free(pw);
}

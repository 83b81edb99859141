/*
 * The expiry note (docs/revocation.md, "Renewing certificates before they
 * expire"): the notAfter of every valid client certificate of the index,
 * one Unix time per line and nothing else, left in the service user's
 * STATE_DIR/store for takd's status and /metrics.  The index is root's
 * (0600) and takd runs as the service user, so takctl, run as root with
 * the PKI at hand (pki, revoke, crl, status and the daily crl renew of
 * etc/takd-crl-renew.timer), writes what takd may know: dates, no names.
 *
 * The directory is the service user's: the note is made with O_EXCL and
 * O_NOFOLLOW (a link planted there is never followed), given to the
 * directory's owner, and renamed into place.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pki/pki.h"
#include "shared/config.h"
#include "shared/expiry_note.h"
#include "takctl/takctl.h"

/* The note's text: its header line, then one notAfter per line. */
static char *
expiry_note_text(const struct pki_index *idx, size_t *len)
{
	char	*buf;
	size_t	 i, cap, n;

	cap = sizeof(EXPIRY_NOTE_HEADER) + 1 + idx->n * 24;
	if ((buf = malloc(cap)) == NULL)
		return (NULL);
	n = (size_t)snprintf(buf, cap, "%s\n", EXPIRY_NOTE_HEADER);
	for (i = 0; i < idx->n; i++) {
		const struct pki_entry *e = &idx->v[i];

		if (e->kind != PKI_KIND_CLIENT ||
		    e->status != PKI_STATUS_VALID || e->not_after == 0)
			continue;
		n += (size_t)snprintf(buf + n, cap - n, "%lld\n",
		    (long long)e->not_after);
	}
	*len = n;
	return (buf);
}

static int
expiry_note_write(int dirfd, const char *text, size_t len)
{
	struct stat	 st;
	int		 fd;

	if (fstat(dirfd, &st) == -1)
		return (-1);
	(void)unlinkat(dirfd, EXPIRY_NOTE_FILE ".tmp", 0);
	if ((fd = openat(dirfd, EXPIRY_NOTE_FILE ".tmp", O_WRONLY | O_CREAT |
	    O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600)) == -1)
		return (-1);
	if (write(fd, text, len) != (ssize_t)len ||
	    fchown(fd, st.st_uid, st.st_gid) == -1 || close(fd) == -1) {
		(void)close(fd);
		(void)unlinkat(dirfd, EXPIRY_NOTE_FILE ".tmp", 0);
		return (-1);
	}
	if (renameat(dirfd, EXPIRY_NOTE_FILE ".tmp", dirfd,
	    EXPIRY_NOTE_FILE) == -1) {
		(void)unlinkat(dirfd, EXPIRY_NOTE_FILE ".tmp", 0);
		return (-1);
	}
	return (0);
}

void
takctl_expiry_note(const struct config *c)
{
	struct pki_index	 idx;
	char			 path[PATH_MAX], err[PATH_MAX + 256];
	char			*text;
	size_t			 len;
	int			 dirfd;

	/* Only root reads the index; no store yet: takd never ran. */
	if (geteuid() != 0 || snprintf(path, sizeof(path), "%s/%s",
	    c->state_dir, EXPIRY_NOTE_DIR) >= (int)sizeof(path))
		return;
	if ((dirfd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
	    O_CLOEXEC)) == -1)
		return;
	if (pki_index_load(c->pki_dir, &idx, err, sizeof(err)) != 0) {
		(void)close(dirfd);
		return;
	}
	if ((text = expiry_note_text(&idx, &len)) != NULL &&
	    expiry_note_write(dirfd, text, len) == -1)
		takctl_warnx("%s/%s: %s (takd's count of expiring client "
		    "certificates stays as it was)", path, EXPIRY_NOTE_FILE,
		    strerror(errno));
	free(text);
	pki_index_free(&idx);
	(void)close(dirfd);
}

/*
 * Revocation across nodes (docs/cluster.md, "Revocation"): a CRL this
 * node accepted is published as it is (PEM or DER, signed by the CA); a
 * CRL another node published goes to this node's supervisor, whose normal
 * reload checks it like a file (signature by the CA, issuer, dates) and
 * takes it only when its CRL number is above the one in force.  Nothing
 * here trusts it: this process only carries the bytes.
 */
#include <sys/mman.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cluster/cluster_int.h"

#define CCRL_MAX	(16 * 1024 * 1024)
#define CCRL_SEALS	(F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE)

/* A sealed memfd's bytes, copied. */
static uint8_t *
ccrl_read_fd(int fd, size_t *len)
{
	struct stat	 st;
	uint8_t		*p;

	if (fstat(fd, &st) == -1 || st.st_size <= 0 || st.st_size > CCRL_MAX ||
	    (fcntl(fd, F_GET_SEALS) & F_SEAL_WRITE) == 0 ||
	    (p = malloc((size_t)st.st_size)) == NULL)
		return (NULL);
	if (pread(fd, p, (size_t)st.st_size, 0) != st.st_size) {
		free(p);
		return (NULL);
	}
	*len = (size_t)st.st_size;
	return (p);
}

void
ccrl_publish(struct cluster *c)
{
	char	 subj[WIRE_SUBJECT_MAX];

	if (c->crl == NULL || !cnats_connected(c))
		return;
	wire_put_hdr(&c->out, WIRE_CRL, c->cfg->cluster_node, c->instance);
	if (wire_put_crl(&c->out, c->crl, c->crl_len) == -1) {
		log_warnx("cluster: the CRL in force (%zu bytes) does not fit "
		    "a message", c->crl_len);
		return;
	}
	cluster_subject(c, subj, sizeof(subj), "crl.%s", c->cfg->cluster_node);
	if (cnats_publish(c, subj, NULL, c->out.p, c->out.len) == 0)
		c->st.crl_published++;
}

int
ccrl_from_supervisor(struct cluster *c, const struct ipc_msg *m)
{
	uint8_t	*p;
	size_t	 len = 0;

	switch (m->hdr.gen_or_peer) {
	case 0:
	case 1:
		if (m->fd == -1 || m->len != 0)
			return (-1);
		if ((p = ccrl_read_fd(m->fd, &len)) == NULL)
			return (0);
		free(c->crl);
		c->crl = p;
		c->crl_len = len;
		if (m->hdr.gen_or_peer == 1) {
			log_info("cluster: publishing the CRL accepted here "
			    "(%zu bytes)", len);
			ccrl_publish(c);
		}
		return (0);
	case 2:
		if (m->fd != -1 || m->len != 0)
			return (-1);
		/* The supervisor took the one we handed over. */
		if (c->crl_cand != NULL) {
			free(c->crl);
			c->crl = c->crl_cand;
			c->crl_len = c->crl_cand_len;
			c->crl_cand = NULL;
			c->st.crl_received++;
		}
		return (0);
	default:
		return (-1);
	}
}

void
ccrl_message(struct cluster *c, const char *node, const uint8_t *p,
    size_t len)
{
	const uint8_t	*der;
	size_t		 derlen, off = 0;
	ssize_t		 n;
	char		 err[256];
	int		 fd;

	if (wire_get_crl(p, len, &der, &derlen, err, sizeof(err)) == -1) {
		c->st.drop_undecodable++;
		log_limited(&c->rl_in, LOG_WARNING, "cluster: CRL from node %s "
		    "dropped: %s", node, err);
		return;
	}
	/* Ours already (each node gives its own to those that join). */
	if ((c->crl != NULL && derlen == c->crl_len && memcmp(der, c->crl,
	    derlen) == 0) || (c->crl_cand != NULL && derlen ==
	    c->crl_cand_len && memcmp(der, c->crl_cand, derlen) == 0))
		return;
	if ((fd = memfd_create("takd-crl-in", MFD_CLOEXEC |
	    MFD_ALLOW_SEALING)) == -1)
		return;
	while (off < derlen) {
		if ((n = write(fd, der + off, derlen - off)) == -1) {
			if (errno == EINTR)
				continue;
			goto done;
		}
		off += (size_t)n;
	}
	if (fcntl(fd, F_ADD_SEALS, CCRL_SEALS) == -1)
		goto done;
	free(c->crl_cand);
	if ((c->crl_cand = malloc(derlen)) != NULL) {
		memcpy(c->crl_cand, der, derlen);
		c->crl_cand_len = derlen;
	}
	log_info("cluster: a CRL of node %s (%zu bytes) goes to the "
	    "supervisor", node, derlen);
	cluster_send(c, IPC_MSG_CLUSTER_CRL, 0, NULL, fd);
done:
	close(fd);
}

void
ccrl_free(struct cluster *c)
{
	free(c->crl);
	free(c->crl_cand);
	c->crl = c->crl_cand = NULL;
}

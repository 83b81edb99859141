/*
 * What marti.c knows of a requester on 8443, for the other Marti routes
 * (datapkg.c): its user and groups as a CoT session of its certificate
 * gets them (docs/groups.md), and the server's name in URLs.
 */
#ifndef TAKD_API_MARTI_H
#define TAKD_API_MARTI_H

#include <stdbool.h>
#include <stddef.h>

#include "shared/users.h"

struct api;
struct api_req;

/* One of the requester's groups and its halves (USERS_IN, USERS_OUT). */
struct marti_group {
	const char	*name;
	unsigned	 halves;
};

/* Borrowed from the request and the users file: for one handler call. */
struct marti_who {
	struct marti_group	 g[USERS_GROUPS_MAX];
	size_t			 n;
	const char		*user;	/* the certificate's user, maybe "" */
	bool			 admin;	/* role admin in the users file */
	const struct users_user	*u;	/* the users file's, else NULL */
};

/*
 * The requester's user and groups: the users file's, else with [auth]
 * ou_groups the group of its O/OU, else __ANON__ with both halves.  -1
 * (logged) when its certificate names no single user or its O/OU make no
 * group name; marti_groups() then answers 403.
 */
int	 marti_who(const struct api_req *, struct marti_who *);
int	 marti_groups(struct api_req *, struct marti_who *);
/* Whether a list of names (shared/grouplist.h) has one in an OUT half. */
bool	 marti_sees(const struct marti_who *, const char *list);
/* The names of the groups with half (USERS_IN, USERS_OUT), "A,B". */
int	 marti_halves(const struct marti_who *, unsigned half, char *buf,
	    size_t len);
/* [pki] server_host, else the host name: ServerConfig and URLs. */
void	 marti_hostname(const struct api *, char *buf, size_t len);

#endif

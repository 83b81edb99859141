/*
 * takctl user import-tak FILE: the users of a TAK Server
 * UserAuthenticationFile.xml into the users file (docs/groups.md,
 * "Migrating from TAK Server").
 *
 * TAK Server's schema (UserAuthenticationFile.xsd): a root
 * UserAuthenticationFile of User elements, each with the attributes
 * identifier, password, passwordHashed, role and fingerprint and the
 * children groupList (both halves), groupListIN and groupListOUT.  Its
 * password hashes are bcrypt ("$2a$", Spring's BCrypt), which libcrypt
 * checks as they are; a password in clear (passwordHashed false) is
 * hashed with yescrypt here.  ROLE_ADMIN becomes admin and every other
 * role user; the fingerprint is dropped (takd names a certificate's user
 * by [auth] user_rdn).  A group named twice for one user gets the union
 * of its halves, as TAK Server's own reading does.
 *
 * All or nothing: anything takd cannot take, or a user the users file
 * has already, stops the import before the file is touched.  The XML is
 * the operator's, but read as carefully as any input: no DTD, no entity,
 * no network.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/parser.h>
#include <libxml/tree.h>
#include <openssl/crypto.h>

#include "shared/fileio.h"
#include "shared/password.h"
#include "takctl/takctl.h"
#include "takctl/user.h"

#define IMPORT_OPTIONS	(XML_PARSE_NONET | XML_PARSE_NOERROR | \
			 XML_PARSE_NOWARNING | XML_PARSE_NOCDATA)

/* What the import did, for the summary. */
struct import_count {
	size_t	 users;
	size_t	 hashes;		/* bcrypt hashes kept */
	size_t	 clear;			/* clear-text passwords hashed */
	size_t	 none;			/* no password */
	size_t	 roles;			/* roles other than admin made user */
};

static bool
import_is(const xmlNode *n, const char *name)
{
	return (n->type == XML_ELEMENT_NODE &&
	    strcmp((const char *)n->name, name) == 0);
}

/*
 * The text of element n into buf: text nodes only (an entity reference
 * or a child element is refused).  -1 after a message.
 */
static int
import_text(const char *file, const xmlNode *n, char *buf, size_t len)
{
	const xmlNode	*c;
	size_t		 o = 0, l;

	buf[0] = '\0';
	for (c = n->children; c != NULL; c = c->next) {
		if (c->type == XML_COMMENT_NODE)
			continue;
		if (c->type != XML_TEXT_NODE) {
			takctl_warnx("%s:%ld: <%s> holds more than text", file,
			    xmlGetLineNo(n), (const char *)n->name);
			return (-1);
		}
		l = strlen((const char *)c->content);
		if (o + l >= len) {
			takctl_warnx("%s:%ld: <%s>: longer than %zu bytes",
			    file, xmlGetLineNo(n), (const char *)n->name,
			    len - 1);
			return (-1);
		}
		memcpy(buf + o, c->content, l + 1);
		o += l;
	}
	return (0);
}

/* Add group name with halves to u, or its halves to the group there. */
static int
import_group(const char *file, const xmlNode *n, struct users_user *u,
    const char *name, unsigned halves)
{
	size_t	 i;

	for (i = 0; i < u->n_groups; i++) {
		if (strcmp(u->groups[i].name, name) == 0) {
			u->groups[i].halves |= halves;
			return (0);
		}
	}
	if (u->n_groups == USERS_GROUPS_MAX) {
		takctl_warnx("%s:%ld: user \"%s\": more than %d groups", file,
		    xmlGetLineNo(n), u->name, USERS_GROUPS_MAX);
		return (-1);
	}
	snprintf(u->groups[u->n_groups].name, USERS_NAME_MAX, "%s", name);
	u->groups[u->n_groups++].halves = halves;
	return (0);
}

/* The attributes of <User> n into u; -1 after a message. */
static int
import_attrs(const char *file, const xmlNode *n, struct users_user *u,
    struct import_count *cnt)
{
	const xmlAttr	*a;
	const char	*k;
	char		*v, err[256];
	char		 pw[PASSWORD_MAX + 1] = "";
	bool		 hashed = false, have_id = false;
	int		 rc = -1;

	for (a = n->properties; a != NULL; a = a->next) {
		k = (const char *)a->name;
		if ((v = (char *)xmlNodeListGetString(n->doc, a->children,
		    1)) == NULL)
			v = (char *)xmlStrdup((const xmlChar *)"");
		if (v == NULL) {
			takctl_warnx("out of memory");
			goto done;
		}
		if (strcmp(k, "identifier") == 0) {
			if (strlen(v) >= sizeof(u->name)) {
				takctl_warnx("%s:%ld: identifier \"%.32s...\": "
				    "longer than %d bytes", file,
				    xmlGetLineNo(n), v, USERS_NAME_MAX - 1);
				xmlFree(v);
				goto done;
			}
			snprintf(u->name, sizeof(u->name), "%s", v);
			have_id = true;
		} else if (strcmp(k, "password") == 0) {
			if (strlen(v) > PASSWORD_MAX) {
				takctl_warnx("%s:%ld: a password longer than "
				    "%d bytes", file, xmlGetLineNo(n),
				    PASSWORD_MAX);
				OPENSSL_cleanse(v, strlen(v));
				xmlFree(v);
				goto done;
			}
			snprintf(pw, sizeof(pw), "%s", v);
			OPENSSL_cleanse(v, strlen(v));
		} else if (strcmp(k, "passwordHashed") == 0)
			hashed = strcmp(v, "true") == 0 || strcmp(v, "1") == 0;
		else if (strcmp(k, "role") == 0) {
			u->role = strcmp(v, "ROLE_ADMIN") == 0 ?
			    USERS_ROLE_ADMIN : USERS_ROLE_USER;
			if (u->role == USERS_ROLE_USER &&
			    strcmp(v, "ROLE_ANONYMOUS") != 0)
				cnt->roles++;
		} else if (strcmp(k, "fingerprint") != 0) {
			takctl_warnx("%s:%ld: unknown attribute %s of <User>",
			    file, xmlGetLineNo(n), k);
			xmlFree(v);
			goto done;
		}
		xmlFree(v);
	}
	if (!have_id) {
		takctl_warnx("%s:%ld: <User> without identifier", file,
		    xmlGetLineNo(n));
		goto done;
	}
	if (pw[0] == '\0') {
		snprintf(u->hash, sizeof(u->hash), "!");
		cnt->none++;
	} else if (hashed) {
		if (strlen(pw) >= sizeof(u->hash) || !users_hash_ok(pw)) {
			takctl_warnx("%s:%ld: user \"%s\": the password hash is "
			    "not a crypt(3) hash", file, xmlGetLineNo(n),
			    u->name);
			goto done;
		}
		memcpy(u->hash, pw, strlen(pw) + 1);
		cnt->hashes++;
	} else {
		if (password_hash(pw, u->hash, sizeof(u->hash), err,
		    sizeof(err)) == -1) {
			takctl_warnx("%s:%ld: user \"%s\": %s", file,
			    xmlGetLineNo(n), u->name, err);
			goto done;
		}
		cnt->clear++;
	}
	rc = 0;
 done:
	OPENSSL_cleanse(pw, sizeof(pw));
	return (rc);
}

/* One <User> into us; -1 after a message. */
static int
import_user(const char *file, const xmlNode *n, struct users *us,
    struct import_count *cnt)
{
	struct users_group	 g[USERS_GROUPS_MAX];
	struct users_user	 u;
	const xmlNode		*c;
	char			 text[USERS_NAME_MAX], err[1024];
	unsigned		 halves;
	int			 rc = -1;

	memset(&u, 0, sizeof(u));
	u.groups = g;
	if (import_attrs(file, n, &u, cnt) == -1)
		goto done;
	if (users_find(us, u.name) != NULL) {
		takctl_warnx("%s:%ld: user \"%s\" given twice", file,
		    xmlGetLineNo(n), u.name);
		goto done;
	}
	for (c = n->children; c != NULL; c = c->next) {
		if (c->type == XML_TEXT_NODE || c->type == XML_COMMENT_NODE)
			continue;
		if (import_is(c, "groupList"))
			halves = USERS_IN | USERS_OUT;
		else if (import_is(c, "groupListIN"))
			halves = USERS_IN;
		else if (import_is(c, "groupListOUT"))
			halves = USERS_OUT;
		else {
			takctl_warnx("%s:%ld: unexpected <%s> in <User>", file,
			    xmlGetLineNo(c), (const char *)c->name);
			goto done;
		}
		if (import_text(file, c, text, sizeof(text)) == -1 ||
		    import_group(file, c, &u, text, halves) == -1)
			goto done;
	}
	if (users_put(us, &u, err, sizeof(err)) == -1) {
		takctl_warnx("%s:%ld: %s", file, xmlGetLineNo(n), err);
		goto done;
	}
	cnt->users++;
	rc = 0;
 done:
	OPENSSL_cleanse(u.hash, sizeof(u.hash));
	return (rc);
}

/* The users of the XML file into a new set *out; -1 after a message. */
static int
import_read(const char *file, struct users **out, struct import_count *cnt)
{
	xmlDoc		*doc = NULL;
	const xmlNode	*root, *c;
	const xmlError	*xe;
	struct users	*us = NULL;
	char		 err[PATH_MAX + 256];
	char		*buf;
	size_t		 len = 0;
	int		 rc = -1;

	*out = NULL;
	if ((buf = fileio_read(AT_FDCWD, file, file, USERS_FILE_MAX, &len,
	    err, sizeof(err))) == NULL) {
		takctl_warnx("%s", err);
		return (-1);
	}
	if ((doc = xmlReadMemory(buf, (int)len, NULL, NULL,
	    IMPORT_OPTIONS)) == NULL) {
		xe = xmlGetLastError();
		snprintf(err, sizeof(err), "%s", xe != NULL &&
		    xe->message != NULL ? xe->message : "");
		err[strcspn(err, "\n")] = '\0';
		takctl_warnx("%s:%d: not well-formed XML%s%s", file,
		    xe != NULL ? xe->line : 0, err[0] != '\0' ? ": " : "",
		    err);
		goto done;
	}
	if (doc->intSubset != NULL || doc->extSubset != NULL) {
		takctl_warnx("%s: has a DTD (<!DOCTYPE ...>): takctl reads "
		    "none", file);
		goto done;
	}
	root = xmlDocGetRootElement(doc);
	if (root == NULL || !import_is(root, "UserAuthenticationFile")) {
		takctl_warnx("%s: not a UserAuthenticationFile (the root "
		    "element is <%s>)", file, root == NULL ? "" :
		    (const char *)root->name);
		goto done;
	}
	if ((us = users_new()) == NULL) {
		takctl_warnx("out of memory");
		goto done;
	}
	for (c = root->children; c != NULL; c = c->next) {
		if (c->type == XML_TEXT_NODE || c->type == XML_COMMENT_NODE)
			continue;
		if (!import_is(c, "User")) {
			takctl_warnx("%s:%ld: unexpected <%s> in "
			    "<UserAuthenticationFile>", file, xmlGetLineNo(c),
			    (const char *)c->name);
			goto done;
		}
		if (import_user(file, c, us, cnt) == -1)
			goto done;
	}
	*out = us;
	us = NULL;
	rc = 0;
 done:
	users_free(us);
	xmlFreeDoc(doc);
	OPENSSL_cleanse(buf, len);
	free(buf);
	return (rc);
}

int
user_import_tak(const struct config *cfg, const char *file)
{
	struct import_count	 cnt;
	struct users_txn		 t;
	struct users		*in = NULL;
	const struct users_user	*u;
	char			 err[1024];
	size_t			 i;
	int			 rc = TAKCTL_EX_FAIL;

	memset(&cnt, 0, sizeof(cnt));
	memset(&t, 0, sizeof(t));
	if (import_read(file, &in, &cnt) == -1)
		goto done;
	if (user_begin(cfg, &t, true) == -1)
		goto done;
	for (i = 0; i < users_count(in); i++) {
		u = users_get(in, i);
		if (users_find(t.us, u->name) != NULL) {
			takctl_warnx("user \"%s\" is in %s already; nothing "
			    "imported", u->name, cfg->users);
			goto done;
		}
		if (users_put(t.us, u, err, sizeof(err)) == -1) {
			takctl_warnx("%s; nothing imported", err);
			goto done;
		}
	}
	if (user_commit(cfg, &t) == -1)
		goto done;
	printf("%s: imported %zu users from %s: %zu bcrypt hashes kept, %zu "
	    "clear-text passwords hashed, %zu without a password\n",
	    cfg->users, cnt.users, file, cnt.hashes, cnt.clear, cnt.none);
	if (cnt.roles > 0)
		printf("%zu users had a role other than ROLE_ADMIN and "
		    "ROLE_ANONYMOUS (ROLE_READONLY?): they are users; give a "
		    "read-only user OUT-only groups\n", cnt.roles);
	printf("`takctl reload` puts the change in force\n");
	rc = TAKCTL_EX_OK;
 done:
	user_end(&t);
	users_free(in);
	return (rc);
}

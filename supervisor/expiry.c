/*
 * The days left of what takd holds: server certificate, CA, CRL.  See
 * expiry.h.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "shared/clock.h"
#include "shared/log.h"
#include "shared/pkiutil.h"
#include "supervisor/expiry.h"

void
expiry_get(const struct sup *sup, struct expiry_info *ei)
{
	X509	*x;
	time_t	 t;
	int	 i;

	memset(ei, 0, sizeof(*ei));
	if (sup->ssl_ctx != NULL &&
	    (x = SSL_CTX_get0_certificate(sup->ssl_ctx)) != NULL)
		ei->server = pki_asn1_time(X509_get0_notAfter(x));
	for (i = 0; i < sk_X509_num(sup->ca); i++) {
		t = pki_asn1_time(X509_get0_notAfter(sk_X509_value(sup->ca, i)));
		if (t != 0 && (ei->ca == 0 || t < ei->ca))
			ei->ca = t;
	}
	if (sup->crl.crl != NULL)
		ei->crl = sup->crl.info.next_update;
}

long
expiry_days_left(time_t when, time_t now)
{
	long long	 s = (long long)when - (long long)now;

	/* Rounded down, also below zero: 1 s past is day -1, not day 0. */
	return ((long)(s >= 0 ? s / 86400 : -((-s + 86399) / 86400)));
}

static void
expiry_json_one(struct json *j, const char *name, time_t when, time_t now)
{
	json_key(j, name);
	json_obj_begin(j);
	json_kv_time(j, "not_after", when);
	json_key(j, "days_left");
	if (when != 0)
		json_int(j, expiry_days_left(when, now));
	else
		json_null(j);
	json_obj_end(j);
}

void
expiry_json(const struct sup *sup, struct json *j)
{
	struct expiry_info	 ei;
	time_t			 now = time(NULL);

	expiry_get(sup, &ei);
	json_key(j, "expiry");
	json_obj_begin(j);
	json_kv_uint(j, "cert_warn_days", sup->cfg->cert_warn_days);
	expiry_json_one(j, "server_cert", ei.server, now);
	expiry_json_one(j, "ca", ei.ca, now);
	expiry_json_one(j, "crl", ei.crl, now);
	json_obj_end(j);
}

static void
expiry_warn(const struct sup *sup, const char *what, const char *path,
    time_t when, time_t now, const char *fix)
{
	char	 t[32];
	long	 days;

	if (when == 0 || sup->cfg->cert_warn_days == 0)
		return;
	days = expiry_days_left(when, now);
	if (days >= (long)sup->cfg->cert_warn_days)
		return;
	pki_time_format(when, t, sizeof(t));
	if (when <= now)
		log_warnx("%s %s EXPIRED on %s: %s", what, path, t, fix);
	else
		log_warnx("%s %s expires in %ld days (%s; [tls] cert_warn_days "
		    "%u): %s", what, path, days, t, sup->cfg->cert_warn_days,
		    fix);
}

int
expiry_tick(struct sup *sup)
{
	static int64_t		 next_ms;
	struct expiry_info	 ei;
	int64_t			 now_ms = clock_mono_ms();
	time_t			 now = time(NULL);

	if (next_ms != 0 && now_ms < next_ms)
		return ((int)(next_ms - now_ms));
	next_ms = now_ms + EXPIRY_WARN_INTERVAL_MS;
	expiry_get(sup, &ei);
	expiry_warn(sup, "server certificate", sup->cfg->cert, ei.server, now,
	    "renew it (takctl pki server --force, then restart takd)");
	expiry_warn(sup, "CA certificate", sup->cfg->ca, ei.ca, now,
	    "every client certificate dies with it: plan a new CA");
	return (EXPIRY_WARN_INTERVAL_MS);
}

#!/usr/bin/env bash
# Expiry you cannot miss: takctl pki expiring lists what expires soon, takctl
# status and /metrics show the days left of the server certificate, the CA
# and the CRL and count the client certificates in [tls] cert_warn_days, and
# the log warns about a server certificate that expires soon.
. "$(dirname "$0")/lib.sh"

# dave's certificate expires in 3 days, alice's in a year or more: only
# dave is listed, soonest first, with his days left; --days 1 lists nobody.
expiring_lists() {
	use_pki "$T/pki"
	write_config "$T/takd.ini"
	expect_ctl 0 pki client dave --days 3 --password test
	expect_ctl 0 pki expiring --days 30
	# 3 days from takctl's clock: 2 or 3 whole days left by now.
	expect_grep '^client .* [23] +dave \(' "$T/out"
	grep -q 'alice' "$T/out" && fail "alice is listed as expiring"
	expect_ctl 0 pki expiring --days 30 --json
	json_flat "$T/out" >"$T/exp.flat"
	expect_eq "$(jget certificates.0.name "$T/exp.flat")" dave "first listed"
	case $(jget certificates.0.days_left "$T/exp.flat") in
	2|3) ;;
	*) fail "days left: $(jget certificates.0.days_left "$T/exp.flat")" ;;
	esac
	expect_eq "$(jget certificates.0.expired "$T/exp.flat")" false "expired"
	expect_eq "$(jcount certificates "$T/exp.flat")" 1 "certificates listed"
	expect_ctl 0 pki expiring --days 1
	expect_grep 'no certificate .* expires within 1 days' "$T/out"
	expect_ctl 64 pki expiring --days -3
}

# takd's status and metrics: days left of what it holds; the terminal
# summary counts dave among the client certificates expiring in 30 days.
status_and_metrics() {
	local sd cd
	use_pki "$T/pki"
	write_config "$T/takd.ini"
	expect_ctl 0 pki client dave --days 3 --password test
	start_takd
	takd_status
	sd=$(sget expiry.server_cert.days_left)
	cd=$(sget expiry.crl.days_left)
	[ "$sd" -gt 30 ] || fail "server certificate days left: '$sd'"
	[ "$(sget expiry.ca.days_left)" -ge "$sd" ] ||
	    fail "CA days left: '$(sget expiry.ca.days_left)'"
	[ "$cd" -ge 28 ] && [ "$cd" -le 30 ] || fail "CRL days left: '$cd'"
	expect_eq "$(sget expiry.cert_warn_days)" 30 "cert_warn_days"
	"$TAKCTL" -c "$CFG" stats --prometheus >"$T/prom" 2>&1 ||
	    fail "takctl stats --prometheus"
	expect_grep "^takd_days_left\\{what=\"server_cert\"\\} $sd\$" "$T/prom"
	expect_grep "^takd_days_left\\{what=\"crl\"\\} $cd\$" "$T/prom"
	expect_grep '^takd_cert_expiry_timestamp_seconds\{cert="ca"\} [0-9]+$' \
	    "$T/prom"
	# The summary for a person: takctl status on a terminal.
	script -qec "$TAKCTL -c $CFG status" /dev/null >"$T/summary" 2>&1 ||
	    { diag_file "$T/summary"; fail "takctl status on a terminal"; }
	expect_grep "Days left: server certificate $sd, CA [0-9]+, CRL nextUpdate $cd; 1 client certificate expires within 30 days" \
	    "$T/summary"
	client_note
}

# takd's own count of expiring client certificates: takctl, as root, leaves
# their dates in the service user's store; status and /metrics count them.
client_note() {
	local note=$T/state/store/pki-expiry
	expect_eq "$(sget expiry.client_certs.expiring)" 1 \
	    "client certificates expiring, in takd's status"
	expect_grep '^takd_client_certs_expiring\{days="30"\} 1$' "$T/prom"
	expect_eq "$(stat -c %U:%a "$note")" \
	    "$(stat -c %U "$T/state/store"):600" "the note's owner and mode"
	grep -q dave "$note" && fail "the note names a client"
	# A link planted where the note is made is never followed.
	ln -s "$T/victim" "$T/state/store/pki-expiry.tmp"
	expect_ctl 0 pki client erin --days 5 --password test
	[ -e "$T/victim" ] && fail "takctl followed a planted link"
	takd_status
	expect_eq "$(sget expiry.client_certs.expiring)" 2 "after erin"
	expect_ctl 0 revoke dave --no-reload
	takd_status
	expect_eq "$(sget expiry.client_certs.expiring)" 1 "after dave's revocation"
	# A note that is not takctl's: unknown, said once in the log.
	printf 'garbage\n' >"$note.new" && mv "$note.new" "$note"
	"$TAKCTL" -c "$CFG" stats --prometheus >"$T/prom" 2>&1 ||
	    fail "takctl stats --prometheus"
	grep -q '^takd_client_certs_expiring' "$T/prom" &&
	    fail "a count from a note that is not takctl's"
	log_has "pki-expiry: not a note of takctl's" ||
	    fail "no log line for a bad note"
}

# A server certificate that expires in 5 days: a warning at start naming
# the file and the days left.
server_warning() {
	use_pki "$T/pki"
	write_config "$T/takd.ini"
	expect_ctl 0 pki server --cn localhost --days 5 --force
	start_takd
	log_has "warning: server certificate $T/pki/server.pem expires in [45] days" ||
	    fail "no warning about the server certificate"
	log_has "warning: CA certificate" && fail "a warning about the CA"
	takd_status
	case $(sget expiry.server_cert.days_left) in
	4|5) ;;
	*) fail "server days left: $(sget expiry.server_cert.days_left)" ;;
	esac
}

run_case expiring_lists
run_case status_and_metrics
run_case server_warning
finish

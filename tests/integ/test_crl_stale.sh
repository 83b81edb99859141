#!/usr/bin/env bash
# A CRL past its nextUpdate never locks the fleet out (enforce-listed, the
# default) and never un-revokes anybody; strict refuses everyone while stale.
. "$(dirname "$0")/lib.sh"

# stale_crl PKIDIR OUT CLIENT...: a CRL listing CLIENTs whose lastUpdate was
# two days ago and whose nextUpdate passed a day ago.
stale_crl() {
	make_crl --dates '2 days ago' '1 day ago' "$@"
}

enforce_listed() {
	use_pki "$T/pki"
	stale_crl "$T/pki" "$T/pki/crl.pem" bob
	write_config "$T/takd.ini"
	start_takd
	expect_eq "$(sget crl.stale)" true "status crl.stale"
	log_has "CRL is stale" || fail "no warning about the stale CRL at start"
	expect_client 0 $(client_args alice)
	expect_client 1 $(client_args bob)
	log_has "revoked" || fail "bob's refusal does not say revoked"
}

strict() {
	use_pki "$T/pki"
	stale_crl "$T/pki" "$T/pki/crl.pem" bob
	write_config "$T/takd.ini" tls.crl_stale=strict
	start_takd
	expect_eq "$(sget crl.stale)" true "status crl.stale"
	expect_client 1 $(client_args alice)
	expect_client 1 $(client_args bob)
	log_has "CRL has expired" || fail "refusal does not say the CRL expired"
}

# A fresh CRL loaded by SIGHUP ends the stale state.
renewed_by_reload() {
	use_pki "$T/pki"
	stale_crl "$T/pki" "$T/pki/crl.pem" bob
	write_config "$T/takd.ini" tls.crl_stale=strict
	start_takd
	expect_client 1 $(client_args alice)
	make_crl "$T/pki" "$T/pki/crl.pem" bob
	kill -HUP "$TAKD_PID"
	wait_status 5 crl.generation 2
	expect_eq "$(sget crl.stale)" false "status crl.stale after renewal"
	expect_client 0 $(client_args alice)
	expect_client 1 $(client_args bob)
}

# [tls] crl_watch = on: replacing the CRL file is a reload, with the same
# validation (a broken file leaves the generation in force).
crl_watch_reloads() {
	use_pki "$T/pki"
	make_crl "$T/pki" "$T/pki/crl.pem"
	write_config "$T/takd.ini" tls.crl_watch=on
	start_takd
	expect_client 0 $(client_args bob)
	make_crl "$T/pki" "$T/pki/crl.pem" bob
	wait_status 5 crl.generation 2
	expect_client 1 $(client_args bob)
	expect_client 0 $(client_args alice)
	echo garbage >"$T/pki/crl.new" && mv "$T/pki/crl.new" "$T/pki/crl.pem"
	wait_for 5 eval '[ -n "$(takd_status && sget crl.last_error)" ] &&
	    [ "$(sget crl.last_error)" != null ]' ||
	    fail "a broken CRL file did not set last_error"
	expect_eq "$(sget crl.generation)" 2 "generation after a broken file"
	expect_client 1 $(client_args bob)
}

run_case crl_watch_reloads
run_case enforce_listed
run_case strict
run_case renewed_by_reload
finish

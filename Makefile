# takd build.  `make run` and `make test` are the two entry points (see README.md);
# both install missing Debian packages first, then re-enter make for the real work so
# that pkg-config runs only once the packages are there.

CC	?= cc
BUILD	?= build/rel
BIN	?= bin
SAN	?= 0
WERROR	?=

WARN	= -Wall -Wextra -Wshadow -Wpointer-arith -Wcast-qual -Wwrite-strings \
	  -Wstrict-prototypes -Wmissing-prototypes -Wmissing-declarations \
	  -Wformat=2 -Wvla -Wundef -Wno-unused-parameter $(WERROR)
OPT	= -O2 -g
ifeq ($(SAN),1)
OPT	= -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined \
	  -fno-sanitize-recover=undefined -DTAKD_SANITIZE
endif
XML_CFLAGS = $(shell pkg-config --cflags libxml-2.0 2>/dev/null || echo -I/usr/include/libxml2)
CPPFLAGS = -I. -I$(BUILD)/proto -D_GNU_SOURCE $(filter -D%,$(OPT)) -DOPENSSL_API_COMPAT=30000 -DOPENSSL_NO_DEPRECATED \
	   -DTAKD_VERSION=\"$(VERSION)\" $(XML_CFLAGS)
CFLAGS	+= -std=c11 $(OPT) $(WARN) -MMD -MP
LDFLAGS	+= $(filter -fsanitize%,$(OPT))
# takd parses network input: it links no CA code (pki/).  libzip and
# libqrencode: the console's enrollment download and QR code, built by the
# api process from the CA certificate (shared/pkgzip.c, shared/qr.c;
# docs/console.md "Enrollment"); they write, they parse nothing.
# libevent (evhttp and its OpenSSL bufferevents): the api process's HTTP
# (api/, docs/api.md); takd only, never takctl.  libcrypt: the api
# process checks passwords (HTTP Basic on the enrollment port,
# api/basic_auth.c); no other process of takd calls it.
EVENT_LIBS = -levent_openssl -levent_extra -levent_core
# libnats: the cluster process's NATS client (cluster/, docs/cluster.md);
# its threads run in that process only.
NATS_LIBS = -lnats
TAKD_LIBS = -lssl -lcrypto -llmdb -linih -lxml2 -lprotobuf-c $(EVENT_LIBS) \
	    -lcrypt $(NATS_LIBS) -lzip -lqrencode
LIBS	= $(TAKD_LIBS) -lcrypt
# takctl decodes no CoT and serves no HTTP: no protobuf-c, no libevent.
TAKCTL_LIBS = $(filter-out -lprotobuf-c $(EVENT_LIBS) $(NATS_LIBS),$(LIBS)) \
	      -lpng16
VERSION	= 0.1.0

# Password hashing (libcrypt): takctl, the unit tests, and takd for the
# api process's HTTP Basic (shared/password.h verifies; only takctl
# hashes).
PASSWORD_SRC = shared/password.c
# The users file's writer (shared/users_txn.h): it needs pki/store.c, so
# takctl and takd-usersd only, never takd.
USERS_TXN_SRC = shared/users_txn.c
COMMON_SRC = $(filter-out $(PASSWORD_SRC) $(USERS_TXN_SRC),$(wildcard shared/*.c)) \
	     $(wildcard ipc/*.c)
# The enrollment logic of the api process (docs/enrollment.md): pure
# modules over buffers, in the unit tests and the fuzz targets, and in
# takd through api/enroll_routes.c.
ENROLL_SRC = $(addprefix api/,basic_auth.c throttle.c accept.c query.c csr_body.c \
	     enroll_reply.c)
# The data package upload's multipart splitter (docs/datapackages.md):
# pure, in the unit tests and the fuzz targets too.
DATAPKG_SRC = api/multipart.c
# The api process (HTTPS, /metrics, enrollment; docs/api.md), named one
# by one.
API_SRC    = $(addprefix api/,api.c conn.c http.c http_stream.c marti.c channels.c \
	     enroll.c metrics.c enroll_routes.c pwcheck.c datapkg.c datapkg_get.c) \
	     $(ENROLL_SRC) $(DATAPKG_SRC)
# The cluster process (NATS; docs/cluster.md).
CLUSTER_SRC = $(wildcard cluster/*.c)
# The admin console (docs/console.md): its own files beside the api's.
API_SRC   += $(addprefix api/,console.c console_data.c console_ops.c \
	     console_enroll.c console_users.c http_push.c)
TAKD_SRC   = $(wildcard supervisor/*.c) $(wildcard worker/*.c) $(API_SRC) \
	     $(COMMON_SRC) $(PASSWORD_SRC) $(CLUSTER_SRC)
# The CoT codecs (cot/, docs/cot.md): pure, in the daemon and the unit tests.
COT_SRC    = $(wildcard cot/*.c)
TAKD_SRC  += $(COT_SRC)
# TAK protocol v1 (docs/takproto.md): protoc-c turns proto/*.proto into
# $(BUILD)/proto/*.pb-c.{c,h} at build time (build output, never
# committed); cot/ includes them through -I$(BUILD)/proto.
PROTO_SRC  = $(wildcard proto/*.proto)
PROTO_C    = $(patsubst proto/%.proto,$(BUILD)/proto/%.pb-c.c,$(PROTO_SRC))
PROTO_H    = $(PROTO_C:.c=.h)
PROTO_OBJ  = $(PROTO_C:.c=.o)
TAKCTL_SRC = $(wildcard takctl/*.c) $(COMMON_SRC)
UNIT_SRC   = $(wildcard tests/unit/test_*.c)
TOOL_SRC   = $(wildcard tests/tools/*.c)
# The CA (pki/, docs/pki.md): in takctl and the unit tests, never in takd.
PKI_SRC    = $(wildcard pki/*.c)
TAKCTL_SRC += $(PKI_SRC) $(PASSWORD_SRC) $(USERS_TXN_SRC)

obj = $(patsubst %.c,$(BUILD)/%.o,$(1))

.PHONY: all run test deps clean bench warnings
all: $(BIN)/takd $(BIN)/takctl $(BIN)/takd-signer $(BIN)/takd-crlfetch \
     $(BIN)/takd-ocspfetch $(BIN)/takd-usersd

$(BIN)/takd: $(call obj,$(TAKD_SRC)) $(PROTO_OBJ)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -o $@ $^ $(TAKD_LIBS)

$(BIN)/takctl: $(call obj,$(TAKCTL_SRC))
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -o $@ $^ $(TAKCTL_LIBS)

# takd-signer (signer/, docs/security.md "The signer"): the key holder that
# signs enrolled devices' CSRs.  Besides takctl, the only program linking
# pki/, and only what signs (pki/cert.c, sign.c, the index): it takes its
# objects from the archive below: libcrypto only, none of takd's parsers.
SIGNER_SRC = $(wildcard signer/*.c)
$(BIN)/takd-signer: $(call obj,$(SIGNER_SRC)) $(BUILD)/libtakd.a
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -o $@ $^ -lcrypto

# takd-usersd (usersd/, docs/security.md "Console: who changes the users
# file"): writes the users file for the admin console, uid 0 without
# capabilities.  Its decision (usersd/change.c) is in the archive for the
# unit tests; the users file's writer and libcrypt, nothing of the network.
USERSD_SRC = usersd/usersd.c
$(BIN)/takd-usersd: $(call obj,$(USERSD_SRC)) $(BUILD)/libtakd.a
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -o $@ $^ -lcrypto -lcrypt

# takd-crlfetch (fetch/, docs/revocation.md "CRL from a URL"): fetches
# [tls] crl_url for the supervisor and checks it.  libcurl
# (libcurl4-openssl-dev) is the maintained HTTP client for the job; this
# program is the only one linking it, takd does not.
FETCH_SRC = fetch/crlfetch.c fetch/curl.c
$(BIN)/takd-crlfetch: $(call obj,$(FETCH_SRC)) $(BUILD)/libtakd.a
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -o $@ $^ -lcurl -lssl -lcrypto

# takd-ocspfetch (fetch/ocspfetch.c, docs/revocation.md "OCSP stapling"):
# asks the OCSP responder about the server certificate for the staple,
# like takd-crlfetch (OpenSSL's OCSP API, libcurl to post; fetch/curl.c,
# the HTTP exchange both make).
$(BIN)/takd-ocspfetch: $(call obj,fetch/ocspfetch.c fetch/curl.c)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -o $@ $^ -lcurl -lcrypto

# Unit tests link against an archive of every module but the mains, so each
# test pulls in only the objects it uses.
LIB_SRC = $(COMMON_SRC) $(PKI_SRC) $(PASSWORD_SRC) $(filter-out %/main.c,$(wildcard supervisor/*.c worker/*.c)) \
	  $(API_SRC) $(CLUSTER_SRC)
LIB_SRC += $(COT_SRC) usersd/change.c usersd/sandbox.c $(USERS_TXN_SRC)
$(BUILD)/libtakd.a: $(call obj,$(LIB_SRC)) $(PROTO_OBJ)
	rm -f $@
	ar rcs $@ $^

# The helpers of tests/unit/ (every file but the tests) are an archive too:
# a test links only the fixtures it uses (worker_fx.c pulls in the worker's
# data path, which test_fanout.c replaces with doubles).
UNIT_HELPER_SRC = $(filter-out tests/unit/test_%,$(wildcard tests/unit/*.c))
$(BUILD)/libunit.a: $(call obj,$(UNIT_HELPER_SRC))
	rm -f $@
	ar rcs $@ $^

$(BUILD)/tests/unit/%: $(BUILD)/tests/unit/%.o $(BUILD)/libunit.a \
    $(BUILD)/libtakd.a
	$(CC) $(LDFLAGS) -o $@ $^ $(LIBS) -lcmocka

# Test tools are single files; takclient and the load generator share the
# TLS client of tests/common/.
$(BUILD)/tests/tools/%: $(BUILD)/tests/tools/%.o
	$(CC) $(LDFLAGS) -o $@ $^ $(LIBS)
$(BUILD)/tests/tools/takclient: $(BUILD)/tests/common/tlsclient.o
# takp_conv runs takd's v1 codec (cot/takp.h) for test_takp_python.
$(BUILD)/tests/tools/takp_conv: $(BUILD)/libtakd.a
# signreq starts takd-signer with supervisor/signer_proc.c (test_signer).
$(BUILD)/tests/tools/signreq: $(BUILD)/libtakd.a
# pkgput stores a file with shared/pkgstore.c (test_packages).
$(BUILD)/tests/tools/pkgput: $(BUILD)/libtakd.a

# The load generator of `make bench`: every file of tests/load/ but
# takhttp's, and the TAK protocol v1 codec from the archive (its v1 clients
# encode their SA).
TAKHTTP_SRC = tests/load/takhttp.c tests/load/takhttp_pkg.c
$(BUILD)/tests/load/takload: $(call obj,$(filter-out $(TAKHTTP_SRC),\
    $(wildcard tests/load/*.c))) $(BUILD)/tests/common/tlsclient.o \
    $(BUILD)/libtakd.a
	$(CC) $(LDFLAGS) -o $@ $^ $(TAKD_LIBS)
# Its HTTPS client for the api process (clientEndPoints, enrollment, data
# packages).
$(BUILD)/tests/load/takhttp: $(call obj,$(TAKHTTP_SRC)) \
    $(BUILD)/tests/load/measure.o $(BUILD)/tests/common/tlsclient.o
	$(CC) $(LDFLAGS) -o $@ $^ -lssl -lcrypto

# The protobuf-c code comes first: any source may include its headers.
$(BUILD)/%.o: %.c | $(PROTO_H)
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(CFLAGS) -c -o $@ $<

# One protoc-c run per .proto writes its .c and .h (a grouped target).
$(BUILD)/proto/%.pb-c.c $(BUILD)/proto/%.pb-c.h: proto/%.proto
	@mkdir -p $(@D)
	protoc-c --proto_path=proto --c_out=$(@D) $<
# Kept: make deletes what a pattern rule made on the way to a target, and
# every build would then run protoc-c and recompile every object again.
.SECONDARY: $(PROTO_C) $(PROTO_H)

# Generated code: every warning but -Wcast-qual, which protoc-c 1.4's
# descriptors trip (they cast string constants to char *).
PROTO_CFLAGS = $(CFLAGS) -Wno-cast-qual
$(BUILD)/proto/%.pb-c.o: $(BUILD)/proto/%.pb-c.c | $(PROTO_H)
	$(CC) $(CPPFLAGS) $(PROTO_CFLAGS) -c -o $@ $<

units: $(patsubst tests/unit/%.c,$(BUILD)/tests/unit/%,$(UNIT_SRC))
tools: $(patsubst tests/tools/%.c,$(BUILD)/tests/tools/%,$(TOOL_SRC))
load: $(BUILD)/tests/load/takload $(BUILD)/tests/load/takhttp
.PHONY: units tools load

deps:
	@scripts/deps.sh

run:
	@scripts/deps.sh
	@$(MAKE) --no-print-directory all
	@scripts/devpki.sh
	exec $(BIN)/takd -f -c etc/takd-dev.ini

test:
	@scripts/deps.sh test
	@$(MAKE) --no-print-directory SAN=1 WERROR=-Werror BUILD=build/san \
		BIN=build/san/bin all units tools load
	@$(MAKE) --no-print-directory WERROR=-Werror fuzzers
	@tests/run.sh build/san

# Release build (no sanitizers) and the load generator; writes docs/performance.md.
bench:
	@scripts/deps.sh
	@$(MAKE) --no-print-directory BUILD=build/rel BIN=build/rel/bin \
		all load
	@scripts/bench.sh build/rel

# Long-running checks, by hand (docs/operations.md): steady churn for
# SOAK_DURATION on a release build, and etc/takd.service under a real
# systemd in a container (root; downloads a Debian root file system once).
SOAK_DURATION	?= 10m
soak:
	@scripts/deps.sh test
	@$(MAKE) --no-print-directory all tools
	@scripts/soak.sh $(SOAK_DURATION)

systemd-check:
	@scripts/deps.sh test
	@$(MAKE) --no-print-directory BUILD=build/rel BIN=build/rel/bin all tools
	@scripts/systemd-check.sh build/rel
.PHONY: soak systemd-check

# Both compilers must build the tree without a warning.
warnings:
	@$(MAKE) --no-print-directory CC=gcc WERROR=-Werror BUILD=build/gcc \
		BIN=build/gcc/bin all units tools load
	@$(MAKE) --no-print-directory CC=clang WERROR=-Werror BUILD=build/clang \
		BIN=build/clang/bin all units tools load

# libFuzzer targets (tests/fuzz/, docs/testing.md "Fuzzing"), always built
# with clang into FUZZ_BUILD whatever CC and SAN say.  `make fuzz` runs each
# for FUZZ_SECONDS; `make test` builds them and runs short rounds.
FUZZ_BUILD	?= build/fuzz
FUZZ_CC		?= clang
FUZZ_SECONDS	?= 600
FUZZ_TARGETS	= cot_frame cot_parse ipc json takp_frame takp
# The enrollment port's own parsing (api/, docs/enrollment.md).
FUZZ_TARGETS	+= basic_auth query accept csr_body
FUZZ_TARGETS	+= sign
# The data package upload's body (api/multipart.c, docs/datapackages.md).
FUZZ_TARGETS	+= multipart
FUZZ_SAN	= -fsanitize=address,undefined -fno-sanitize-recover=undefined
FUZZ_CFLAGS	= -std=c11 -O1 -g -fno-omit-frame-pointer $(FUZZ_SAN) \
		  -fsanitize=fuzzer-no-link $(WARN) -MMD -MP
FUZZ_IPC_OBJ	= ipc/ipc.o ipc/users_msg.o worker/fanout.o worker/outq.o worker/tls.o \
		  worker/sesscache.o \
		  cot/takp_frame.o \
		  shared/log.o shared/clock.o shared/counters.o shared/crlset.o \
		  shared/grouplist.o shared/utf8.o tests/fuzz/deliver_none.o
fuzzobj = $(addprefix $(FUZZ_BUILD)/obj/,$(1))

$(FUZZ_BUILD)/obj/%.o: %.c | $(PROTO_H)
	@mkdir -p $(@D)
	$(FUZZ_CC) $(CPPFLAGS) $(FUZZ_CFLAGS) -c -o $@ $<

# The protobuf-c code protoc-c wrote into $(BUILD)/proto, built with clang
# (relaxed as PROTO_CFLAGS says) for the targets that decode v1.
FUZZ_PROTO_OBJ	= $(patsubst $(BUILD)/proto/%,$(FUZZ_BUILD)/obj/proto/%,$(PROTO_OBJ))
$(FUZZ_BUILD)/obj/proto/%.pb-c.o: $(BUILD)/proto/%.pb-c.c | $(PROTO_H)
	@mkdir -p $(@D)
	$(FUZZ_CC) $(CPPFLAGS) $(FUZZ_CFLAGS) -Wno-cast-qual -c -o $@ $<

$(FUZZ_BUILD)/fuzz_cot_frame: $(call fuzzobj,tests/fuzz/fuzz_cot_frame.o \
	cot/cot_frame.o)
$(FUZZ_BUILD)/fuzz_cot_parse: $(call fuzzobj,tests/fuzz/fuzz_cot_parse.o \
	cot/cot_parse.o shared/utf8.o cot/cot_make.o cot/cot_time.o \
	cot/cot_frame.o)
# fuzz_takp_frame: the v1 framer, and the decoder on what it hands out;
# fuzz_takp: the codec both ways.
$(FUZZ_BUILD)/fuzz_takp_frame: $(call fuzzobj,tests/fuzz/fuzz_takp_frame.o \
	cot/takp_frame.o cot/takp_decode.o cot/takp_encode.o cot/takp_xml.o \
	cot/cot_parse.o shared/utf8.o cot/cot_time.o cot/cot_frame.o) $(FUZZ_PROTO_OBJ)
$(FUZZ_BUILD)/fuzz_takp: $(call fuzzobj,tests/fuzz/fuzz_takp.o \
	cot/takp_decode.o cot/takp_encode.o cot/takp_xml.o cot/cot_parse.o shared/utf8.o \
	cot/cot_time.o cot/cot_frame.o cot/takp_frame.o) $(FUZZ_PROTO_OBJ)
$(FUZZ_BUILD)/fuzz_ipc: $(call fuzzobj,tests/fuzz/fuzz_ipc.o $(FUZZ_IPC_OBJ))
$(FUZZ_BUILD)/fuzz_json: $(call fuzzobj,tests/fuzz/fuzz_json.o shared/json.o \
	shared/pkiutil.o)
$(FUZZ_BUILD)/fuzz_basic_auth: $(call fuzzobj,tests/fuzz/fuzz_basic_auth.o \
	api/basic_auth.o shared/password.o shared/users.o shared/utf8.o \
	shared/fileio.o shared/trust.o)
$(FUZZ_BUILD)/fuzz_query: $(call fuzzobj,tests/fuzz/fuzz_query.o api/query.o)
$(FUZZ_BUILD)/fuzz_accept: $(call fuzzobj,tests/fuzz/fuzz_accept.o \
	api/accept.o)
$(FUZZ_BUILD)/fuzz_csr_body: $(call fuzzobj,tests/fuzz/fuzz_csr_body.o \
	api/csr_body.o)
$(FUZZ_BUILD)/fuzz_multipart: $(call fuzzobj,tests/fuzz/fuzz_multipart.o \
	api/multipart.o)
# fuzz_sign: the api <-> signer messages and the CSR policy.
$(FUZZ_BUILD)/fuzz_sign: $(call fuzzobj,tests/fuzz/fuzz_sign.o \
	ipc/sign_msg.o ipc/ipc.o shared/csr_check.o shared/users.o \
	shared/utf8.o shared/log.o shared/clock.o shared/fileio.o \
	shared/trust.o shared/grouplist.o)
$(addprefix $(FUZZ_BUILD)/fuzz_,$(FUZZ_TARGETS)):
	$(FUZZ_CC) $(FUZZ_SAN) -fsanitize=fuzzer -o $@ $^ $(LIBS)

# fuzz_ipc's seeds come from the real encoders: a plain program.
$(FUZZ_BUILD)/ipc_seeds: $(call fuzzobj,tests/fuzz/ipc_seeds.o $(FUZZ_IPC_OBJ))
	$(FUZZ_CC) $(FUZZ_SAN) -o $@ $^ $(LIBS)

fuzzers: $(addprefix $(FUZZ_BUILD)/fuzz_,$(FUZZ_TARGETS)) \
	$(FUZZ_BUILD)/ipc_seeds

fuzz:
	@scripts/deps.sh test
	@$(MAKE) --no-print-directory WERROR=-Werror fuzzers
	@scripts/fuzz.sh -d $(FUZZ_BUILD) -s $(FUZZ_SECONDS)
.PHONY: fuzz fuzzers

-include $(shell find $(FUZZ_BUILD) -name '*.d' 2>/dev/null)

clean:
	rm -rf build bin

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)

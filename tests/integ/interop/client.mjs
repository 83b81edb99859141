// A third-party TAK client against takd: @tak-ps/node-tak 8.9.0 (see
// package.json; tests/integ/test_cot_interop.sh installs it with npm ci).
//
//   node client.mjs PORT CERT.pem KEY.pem UID CALLSIGN PEER_UID [SECONDS]
//
// Connects over mutual TLS to 127.0.0.1:PORT.  The library pings as soon as
// the handshake is done and reports the connection open (its "ping" event)
// only when the pong comes back; then this client sends its SA (uid UID,
// callsign CALLSIGN) through the library's CoT writer, every second, and
// waits for an event whose uid is PEER_UID.  Prints one line per step:
//   open                   the library got takd's pong
//   sent UID               our SA went out
//   cot UID TYPE           an event from takd
//   done                   PEER_UID's event arrived
// Exit status 0 when done, 1 on an error, a close by the server or after
// SECONDS (default 15) without PEER_UID's event.
import fs from 'node:fs';
import TAK, { CoT } from '@tak-ps/node-tak';

const [port, certFile, keyFile, uid, callsign, peerUid, secs] =
    process.argv.slice(2);
if (!peerUid) {
    console.error('usage: node client.mjs PORT CERT KEY UID CALLSIGN PEER_UID [SECONDS]');
    process.exit(2);
}

function say(line) {
    process.stdout.write(line + '\n');
}

function sa() {
    const now = new Date();
    const stale = new Date(now.getTime() + 5 * 60 * 1000);
    return new CoT(`<event version="2.0" uid="${uid}" type="a-f-G-U-C" ` +
        `how="m-g" time="${now.toISOString()}" start="${now.toISOString()}" ` +
        `stale="${stale.toISOString()}"><point lat="38.9" lon="-77.0" ` +
        `hae="10" ce="5" le="5"/><detail><contact callsign="${callsign}" ` +
        `endpoint="*:-1:stcp"/><remarks>from node-tak</remarks></detail></event>`);
}

let tak;
let opened = false;
let finished = false;
let timer;

function finish(code, why) {
    if (finished)
        return;
    finished = true;
    if (why)
        say(why);
    clearInterval(timer);
    if (tak)
        tak.destroy();
    // Let the last writes and the close go out.
    setTimeout(() => process.exit(code), 200);
}

const deadline = setTimeout(() => {
    finish(1, opened ? `timeout: no event from ${peerUid}` :
        'timeout: never open (no pong)');
}, Number(secs || 15) * 1000);

tak = await TAK.connect('takd-interop', new URL(`ssl://127.0.0.1:${port}`), {
    cert: fs.readFileSync(certFile, 'utf8'),
    key: fs.readFileSync(keyFile, 'utf8'),
});

tak.on('ping', () => {
    if (opened)
        return;
    opened = true;
    say('open');
    const send = () => {
        tak.write([sa()]);
        say(`sent ${uid}`);
    };
    send();
    timer = setInterval(send, 1000);
}).on('cot', (cot) => {
    const a = cot.raw.event._attributes;
    say(`cot ${a.uid} ${a.type}`);
    if (a.uid === peerUid) {
        clearTimeout(deadline);
        // Stay a moment so that our SA (sent at open) has surely arrived.
        setTimeout(() => finish(0, 'done'), 1000);
    }
}).on('end', () => {
    clearTimeout(deadline);
    finish(1, 'closed by server');
}).on('error', (err) => {
    clearTimeout(deadline);
    finish(1, `error: ${err.message}`);
});

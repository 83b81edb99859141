// The takd admin console (docs/console.md): plain JavaScript, no build
// step.  Every value from the server goes into the page as text
// (textContent, text nodes), never as markup.
"use strict";

const state = { csrf: "", clients: [], offset: 0, sort: "callsign",
	asc: true, markers: new Map(), map: null, layer: null, es: null };

function say(msg, error) {
	const s = document.getElementById("status");
	s.textContent = msg;
	s.classList.toggle("error", !!error);
}

function el(tag, text, attrs) {
	const e = document.createElement(tag);
	if (text !== undefined && text !== null)
		e.textContent = String(text);
	for (const k in attrs || {})
		e.setAttribute(k, attrs[k]);
	return e;
}

async function api(path, opts) {
	opts = opts || {};
	opts.credentials = "same-origin";
	if (opts.method === "POST")
		opts.headers = Object.assign({ "X-CSRF-Token": state.csrf },
		    opts.headers || {});
	const r = await fetch(path, opts);
	const j = await r.json().catch(() => ({}));
	if (r.status === 403 && /session/.test(j.error || "")) {
		say("Your session ended: log in again.", true);
		setTimeout(() => window.location.replace("/"), 1500);
	}
	if (!r.ok)
		throw new Error(j.error || ("HTTP " + r.status));
	return j;
}

function fmtTime(ms) {
	if (!ms)
		return "";
	return new Date(Number(ms)).toISOString().replace("T", " ").slice(0, 19) + "Z";
}

function age(ms) {
	const s = Math.max(0, Math.round((Date.now() - state.offset - ms) / 1000));
	return s < 120 ? s + " s" : s < 7200 ? Math.round(s / 60) + " min" :
	    Math.round(s / 3600) + " h";
}

// ATAK's team colours (__group name).
const TEAM = { "White": "#ffffff", "Yellow": "#ffeb3b", "Orange": "#ff9800",
	"Magenta": "#e91e63", "Red": "#f44336", "Maroon": "#800000",
	"Purple": "#9c27b0", "Dark Blue": "#0d47a1", "Blue": "#2196f3",
	"Cyan": "#00bcd4", "Teal": "#009688", "Green": "#4caf50",
	"Dark Green": "#1b5e20", "Brown": "#795548" };

function isStale(c) {
	return c.pos && c.pos.stale_ms <= Date.now() - state.offset;
}

function initMap(tiles) {
	const m = document.getElementById("map");
	if (typeof L === "undefined") {
		m.textContent = "The map library (libjs-leaflet) is not installed on the server.";
		return;
	}
	state.map = L.map(m, { worldCopyJump: true }).setView([0, 0], 2);
	if (tiles)
		L.tileLayer(tiles, { maxZoom: 19,
		    attribution: "map tiles: " + new URL(tiles.replace(/[{}]/g, "")).host }).addTo(state.map);
	else
		m.classList.add("grid");
	state.layer = L.layerGroup().addTo(state.map);
}

function drawMap() {
	if (!state.map)
		return;
	state.layer.clearLayers();
	const pts = [];
	let n = 0;
	for (const c of state.clients) {
		if (!c.pos)
			continue;
		const ll = [c.pos.lat / 1e7, c.pos.lon / 1e7];
		const stale = isStale(c);
		const colour = stale ? "#9e9e9e" : (TEAM[c.pos.team] || "#2196f3");
		const mk = L.circleMarker(ll, { radius: 8, color: "#222",
		    weight: 1, fillColor: colour, fillOpacity: stale ? 0.5 : 0.9 });
		const label = el("span", (c.callsign || c.uid) + " · " +
		    age(c.pos.time_ms) + (stale ? " (stale)" : ""));
		label.className = "map-label";
		label.dataset.uid = c.uid;
		mk.bindTooltip(label, { permanent: true, direction: "right" });
		mk.addTo(state.layer);
		if (c.pos.course !== undefined) {
			const r = c.pos.course * Math.PI / 180, d = 0.0005 *
			    Math.pow(2, 16 - Math.min(16, state.map.getZoom()));
			L.polyline([ll, [ll[0] + d * Math.cos(r), ll[1] + d * Math.sin(r)]],
			    { color: colour, weight: 3 }).addTo(state.layer);
		}
		pts.push(ll);
		n++;
	}
	document.getElementById("map-count").textContent = n + " on the map.";
	if (pts.length && !state.fitted) {
		state.map.fitBounds(pts, { maxZoom: 14, padding: [40, 40] });
		state.fitted = true;
	}
}

function groupsOf(c) {
	const inn = (c.groups_in || "").split(",").filter(Boolean);
	const out = (c.groups_out || "").split(",").filter(Boolean);
	const all = [...new Set([...inn, ...out])];
	return all.map((g) => g + (inn.includes(g) && out.includes(g) ? "" :
	    inn.includes(g) ? " (in)" : " (out)")).join(", ");
}

function label(c) {
	return c.callsign || c.uid || "client " + c.id;
}

async function disconnect(c) {
	say("Disconnecting " + label(c) + "…");
	try {
		const j = await api("/console/api/clients/disconnect?id=" +
		    encodeURIComponent(c.id), { method: "POST" });
		say(j.message + ".");
	} catch (e) { say("Disconnect " + label(c) + ": " + e.message, true); }
}

async function revoke(c, reason) {
	say("Revoking the certificate of " + label(c) + "…");
	try {
		const j = await api("/console/api/clients/revoke?serial=" +
		    encodeURIComponent(c.serial) + "&reason=" +
		    encodeURIComponent(reason), { method: "POST" });
		say("Certificate " + c.serial + " of " + label(c) +
		    " revoked (CRL number " + j.crl_number + "); " +
		    j.sessions_closed + " session" +
		    (j.sessions_closed === 1 ? "" : "s") + " closed.");
	} catch (e) { say("Revoke " + label(c) + ": " + e.message, true); }
}

// One dialog for every row: the table is redrawn at every update.
function askRevoke(c) {
	const d = document.getElementById("revoke-dialog");
	document.getElementById("revoke-what").textContent = label(c) +
	    (c.user ? " (user " + c.user + ")" : "") + ", certificate " +
	    c.serial + (c.subject ? ", " + c.subject : "");
	document.getElementById("revoke-reason").value = "unspecified";
	d.onclose = () => {
		if (d.returnValue === "revoke")
			revoke(c, document.getElementById("revoke-reason").value);
	};
	d.returnValue = "";
	d.showModal();
}

function actions(c) {
	const td = el("td");
	const d = el("button", "Disconnect", { type: "button",
	    "aria-label": "Disconnect " + label(c) });
	d.className = "secondary disconnect";
	d.addEventListener("click", () => disconnect(c));
	td.append(d);
	if (c.serial) {
		const r = el("button", "Revoke…", { type: "button",
		    "aria-label": "Revoke the certificate of " + label(c) });
		r.className = "danger revoke";
		r.addEventListener("click", () => askRevoke(c));
		td.append(" ", r);
	}
	return td;
}

function drawClients() {
	const f = document.getElementById("filter").value.toLowerCase();
	const tb = document.querySelector("#clients tbody");
	const rows = state.clients.filter((c) => !f || [c.callsign, c.user,
	    groupsOf(c), c.address, c.uid].join(" ").toLowerCase().includes(f));
	const k = state.sort;
	rows.sort((a, b) => {
		const x = k === "groups" ? groupsOf(a) : a[k];
		const y = k === "groups" ? groupsOf(b) : b[k];
		return (x < y ? -1 : x > y ? 1 : 0) * (state.asc ? 1 : -1);
	});
	tb.replaceChildren();
	for (const c of rows) {
		const tr = el("tr");
		tr.dataset.uid = c.uid;
		if (isStale(c))
			tr.className = "stale";
		tr.append(el("td", c.callsign || "(" + (c.uid || "not bound") + ")"),
		    el("td", c.user), el("td", groupsOf(c)),
		    el("td", "worker " + c.worker), el("td", c.encoding),
		    el("td", c.address), el("td", fmtTime(c.connected_ms)),
		    el("td", c.last_ms ? age(c.last_ms) + " ago" : ""));
		const cert = el("td");
		if (c.serial) {
			const d = el("details");
			const exp = expiry(c);
			const sum = el("summary", "serial " + c.serial.slice(0, 12) +
			    "…" + (exp ? ", " + exp.short : ""));
			if (exp && exp.warn)
				sum.className = "expiring";
			d.append(sum, el("div", "serial " + c.serial),
			    el("div", c.subject), el("div", exp ? "expires " +
			    exp.long : "expiry unknown (a session of an older takd)"));
			d.lastChild.className = "cert-expiry" +
			    (exp && exp.warn ? " expiring" : "");
			cert.append(d);
		}
		tr.append(cert, actions(c));
		tb.append(tr);
	}
	document.getElementById("clients-count").textContent =
	    rows.length + " of " + state.clients.length + " clients";
}

// The certificate's expiry: the date, days left, red under [tls]
// cert_warn_days.
function expiry(c) {
	if (!c.not_after)
		return null;
	const ms = c.not_after * 1000;
	const days = Math.floor((ms - (Date.now() - state.offset)) / 86400000);
	const date = fmtTime(ms);
	const left = days < 0 ? "expired" : days + " day" + (days === 1 ? "" : "s") + " left";
	return { short: date.slice(0, 10) + " (" + left + ")",
	    long: date + " (" + left + ")",
	    warn: days < 0 || (state.warnDays > 0 && days < state.warnDays) };
}

function onSnapshot(j) {
	state.offset = Date.now() - j.now_ms;
	state.warnDays = j.cert_warn_days || 0;
	state.clients = j.clients;
	drawMap();
	drawClients();
}

function openEvents() {
	if (state.es)
		state.es.close();
	state.es = new EventSource("/console/api/events");
	state.es.addEventListener("clients", (e) => {
		try { onSnapshot(JSON.parse(e.data)); } catch (x) { say("Bad update: " + x, true); }
	});
	state.es.onerror = () => say("Live updates interrupted; reconnecting…", true);
	state.es.onopen = () => say("Live: connected to the server.");
}

async function loadUsers() {
	try {
		const j = await api("/console/api/users");
		document.getElementById("users-gen").textContent = "generation " + j.generation;
		const tb = document.querySelector("#users tbody");
		tb.replaceChildren();
		for (const u of j.users) {
			const tr = el("tr");
			tr.append(el("td", u.name), el("td", u.role),
			    el("td", u.password ? "yes" : "no"),
			    el("td", u.groups.map((g) => g.name + (g.in && g.out ? "" :
			    g.in ? " (in)" : " (out)")).join(", ")));
			// The row's actions: console/users.js.
			tr.append(typeof userActions === "function" ? userActions(u) : el("td"));
			tb.append(tr);
		}
		say(j.users.length + " users.");
	} catch (e) { say("Users: " + e.message, true); }
}

async function loadHealth() {
	try {
		const j = await api("/console/api/status");
		const tb = document.querySelector("#health-summary tbody");
		tb.replaceChildren();
		const row = (k, v) => { const tr = el("tr"); tr.append(el("th", k, { scope: "row" }), el("td", v)); tb.append(tr); };
		const w = j.workers || [];
		row("version", j.version);
		row("workers", w.length + " (" + w.filter((x) => x.state === "running").length + " running)");
		row("sessions", w.reduce((a, x) => a + (x.sessions || 0), 0));
		if (j.crl) {
			row("CRL", "generation " + j.crl.generation + ", " + j.crl.entries + " entries" + (j.crl.stale ? ", STALE" : ""));
			if (j.crl.seconds_to_next_update !== null && j.crl.seconds_to_next_update !== undefined)
				row("CRL next update in", Math.floor(j.crl.seconds_to_next_update / 86400) + " days");
		}
		// Expiries and nodes as takctl status gives them (supervisor/
		// expiry.c, cluster_proc.c): the same figures, read here.
		const ex = j.expiry;
		if (ex) {
			const when = (e) => !e || e.days_left === null ? "unknown" :
			    e.not_after + " (" + (e.days_left < 0 ? "EXPIRED" : e.days_left + " days left") + ")";
			row("server certificate expires", when(ex.server_cert));
			row("CA expires", when(ex.ca));
			const cc = ex.client_certs || {};
			row("client certificates expiring within " + ex.cert_warn_days + " days",
			    cc.expiring === null || cc.expiring === undefined ? "not counted yet (takctl pki expiring)" : cc.expiring);
		}
		const cl = j.cluster;
		if (cl) {
			const link = cl.link || {};
			row("cluster", cl.name + ", node " + cl.node + (cl.running ? "" : " (NOT RUNNING)") +
			    ", NATS " + (link.nats_connected ? "connected" : "DISCONNECTED"));
			for (const n of link.nodes || [])
				row("node " + n.id, n.clients + " clients, heard " +
				    (n.last_heard_ms_ago / 1000).toFixed(1) + " s ago" + (n.in_step ? "" : ", catching up"));
		}
		row("drops", w.reduce((a, x) => a + Object.values(x.dropped || {}).reduce((p, q) => p + (+q || 0), 0), 0));
		document.getElementById("health-json").textContent = JSON.stringify(j, null, 2);
		say("Health refreshed.");
	} catch (e) { say("Health: " + e.message, true); }
}

async function loadPackages() {
	try {
		const j = await api("/console/api/packages");
		const tb = document.querySelector("#packages tbody");
		tb.replaceChildren();
		for (const p of j.packages) {
			const tr = el("tr");
			const b = el("button", "Delete", { type: "button", "aria-label": "Delete package " + p.name });
			b.className = "danger";
			b.addEventListener("click", async () => {
				if (!confirm("Delete " + p.name + "?"))
					return;
				try {
					await api("/console/api/packages/delete?hash=" + p.hash, { method: "POST" });
					say("Deleted " + p.name + ".");
					loadPackages();
				} catch (e) { say("Delete " + p.name + ": " + e.message, true); }
			});
			const td = el("td");
			td.append(b);
			tr.append(el("td", p.name), el("td", p.size + " bytes"), el("td", p.user),
			    el("td", p.groups), el("td", fmtTime(p.submitted_ms)), td);
			tb.append(tr);
		}
		say(j.store ? j.packages.length + " packages." : "No package store yet.");
	} catch (e) { say("Packages: " + e.message, true); }
}

function tab(name) {
	for (const t of document.querySelectorAll("[role=tab]")) {
		const on = t.id === "tab-" + name;
		t.setAttribute("aria-selected", on ? "true" : "false");
		document.getElementById(t.getAttribute("aria-controls")).hidden = !on;
	}
	if (name === "map" && state.map)
		state.map.invalidateSize();
	if (name === "users") loadUsers();
	if (name === "health") loadHealth();
	if (name === "packages") loadPackages();
}

async function main() {
	let s;
	try {
		s = await api("/console/api/session");
	} catch (e) {
		say("No session: " + e.message, true);
		return;
	}
	state.csrf = s.csrf;
	document.getElementById("who").textContent = s.user + " (" + s.via + ")";
	for (const t of document.querySelectorAll("[role=tab]"))
		t.addEventListener("click", () => tab(t.id.slice(4)));
	for (const b of document.querySelectorAll("#clients th button"))
		b.addEventListener("click", () => {
			state.asc = state.sort === b.dataset.key ? !state.asc : true;
			state.sort = b.dataset.key;
			drawClients();
		});
	document.getElementById("filter").addEventListener("input", drawClients);
	document.getElementById("health-refresh").addEventListener("click", loadHealth);
	document.getElementById("logout").addEventListener("click", async () => {
		try {
			await api("/console/logout", { method: "POST" });
			if (state.es) state.es.close();
			say("Logged out.");
			window.location.replace("/");
		} catch (e) { say("Log out: " + e.message, true); }
	});
	initMap(s.tiles);
	openEvents();
	// Ages and staleness move without the server: redraw now and then.
	setInterval(() => { drawMap(); drawClients(); }, 10000);
}

document.addEventListener("DOMContentLoaded", main);

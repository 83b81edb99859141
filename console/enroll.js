// The console's enrollment dialog (docs/console.md, "Enrollment"): a
// user's enrollment package and the QR codes ATAK and iTAK scan.  ATAK's
// code carries the user's password, which the console never knows: the
// admin types it (or the users view passes the one it just set, through
// console_enroll_show(user, password)), the server checks it and answers
// with the package and both codes as SVG, shown as images (data: URLs,
// which the console's CSP allows for images; no markup is inserted).
// Uses console.js's api(), el() and say().
"use strict";

const enrollState = { user: "", zipUrl: null };

function enrollDialog() {
	let d = document.getElementById("enroll-dialog");
	if (d)
		return d;
	d = el("dialog", null, { id: "enroll-dialog",
	    "aria-labelledby": "enroll-title" });
	const form = el("form", null, { id: "enroll-form" });
	const pw = el("input", null, { id: "enroll-password", type: "password",
	    autocomplete: "off", required: "" });
	const go = el("button", "Show QR code and package", { id: "enroll-submit",
	    type: "submit" });
	form.append(el("label", "Password of the user", { for: "enroll-password" }),
	    pw, go);
	const err = el("p", null, { id: "enroll-error", role: "alert" });
	err.className = "error";
	const res = el("div", null, { id: "enroll-result" });
	res.hidden = true;
	const fig = (id, caption) => {
		const f = el("figure");
		f.append(el("img", null, { id: id, alt: caption }),
		    el("figcaption", caption));
		return f;
	};
	const dl = el("a", "Download the enrollment package", { id: "enroll-download" });
	dl.className = "button";
	res.append(fig("enroll-qr", "ATAK: scan to enroll (the code holds the password)"),
	    fig("enroll-qr-itak", "iTAK: scan, then log in with the user's name and password"),
	    el("p", null, { id: "enroll-target" }), dl);
	const close = el("button", "Close", { id: "enroll-close", type: "button" });
	close.className = "secondary";
	close.addEventListener("click", () => d.close());
	d.append(el("h2", "Enrollment", { id: "enroll-title" }),
	    el("p", "A phone enrolls for its own certificate with the user's " +
	    "name and password: scan a code, or import the package and " +
	    "type the password on the phone. The package holds no secret."),
	    form, err, res, el("div", null, { class: "buttons" }));
	d.lastChild.append(close);
	form.addEventListener("submit", (e) => {
		e.preventDefault();
		enrollFetch(pw.value);
	});
	// Nothing of the password stays in the page once closed.
	d.addEventListener("close", enrollClear);
	document.body.append(d);
	return d;
}

function enrollClear() {
	document.getElementById("enroll-password").value = "";
	document.getElementById("enroll-error").textContent = "";
	document.getElementById("enroll-result").hidden = true;
	for (const id of ["enroll-qr", "enroll-qr-itak"])
		document.getElementById(id).removeAttribute("src");
	const dl = document.getElementById("enroll-download");
	dl.removeAttribute("href");
	if (enrollState.zipUrl)
		URL.revokeObjectURL(enrollState.zipUrl);
	enrollState.zipUrl = null;
}

function svgUrl(svg) {
	return "data:image/svg+xml;charset=utf-8," + encodeURIComponent(svg);
}

async function enrollFetch(password) {
	const user = enrollState.user;
	const err = document.getElementById("enroll-error");
	err.textContent = "";
	document.getElementById("enroll-result").hidden = true;
	if (!password) {
		err.textContent = "Type the user's password: the ATAK code carries it.";
		return;
	}
	say("Checking the password of " + user + "…");
	try {
		const j = await api("/console/api/users/enroll?user=" +
		    encodeURIComponent(user), { method: "POST",
		    headers: { "Content-Type": "application/x-www-form-urlencoded" },
		    body: "password=" + encodeURIComponent(password) });
		document.getElementById("enroll-qr").src = svgUrl(j.qr_svg);
		document.getElementById("enroll-qr-itak").src = svgUrl(j.itak_svg);
		document.getElementById("enroll-target").textContent =
		    "Connects to " + j.host + ":" + j.port + " (TLS), enrolls on " +
		    j.host + ":" + j.enroll_port + ".";
		const bin = atob(j.package);
		const bytes = new Uint8Array(bin.length);
		for (let i = 0; i < bin.length; i++)
			bytes[i] = bin.charCodeAt(i);
		if (enrollState.zipUrl)
			URL.revokeObjectURL(enrollState.zipUrl);
		enrollState.zipUrl = URL.createObjectURL(new Blob([bytes],
		    { type: "application/zip" }));
		const dl = document.getElementById("enroll-download");
		dl.href = enrollState.zipUrl;
		dl.download = j.package_name;
		dl.textContent = "Download " + j.package_name + " (" +
		    j.package_bytes + " bytes)";
		document.getElementById("enroll-password").value = "";
		document.getElementById("enroll-result").hidden = false;
		say("Enrollment of " + user + ": scan a code or download the package.");
	} catch (e) {
		err.textContent = "Enrollment of " + user + ": " + e.message;
		say("Enrollment of " + user + ": " + e.message, true);
	}
}

// Open the dialog for user; with password (the users view just set it),
// the codes come at once.
function console_enroll_show(user, password) {
	const d = enrollDialog();
	enrollClear();
	enrollState.user = user;
	document.getElementById("enroll-title").textContent = "Enrollment of " + user;
	document.querySelector("#enroll-form label").textContent =
	    "Password of " + user;
	if (!d.open)
		d.showModal();
	if (password)
		return enrollFetch(password);
	else
		document.getElementById("enroll-password").focus();
}

// A row's button; the users view may place it itself.
function console_enroll_button(user) {
	const b = el("button", "Enrollment…", { type: "button",
	    "aria-label": "Enrollment package and QR code of " + user });
	b.className = "secondary enroll";
	b.addEventListener("click", () => console_enroll_show(user));
	return b;
}

// Every row of the users table that has no button yet gets one.
function enrollRows() {
	const t = document.getElementById("users");
	if (!t)
		return;
	const head = t.querySelector("thead tr");
	if (head && !head.querySelector(".enroll-col")) {
		const th = el("th", "Enrollment", { scope: "col" });
		th.className = "enroll-col";
		head.append(th);
	}
	for (const tr of t.querySelectorAll("tbody tr")) {
		if (tr.querySelector("button.enroll") || !tr.cells.length)
			continue;
		const td = el("td");
		td.append(console_enroll_button(tr.cells[0].textContent));
		tr.append(td);
	}
}

document.addEventListener("DOMContentLoaded", () => {
	const tb = document.querySelector("#users tbody");
	if (tb)
		new MutationObserver(enrollRows).observe(tb, { childList: true });
});

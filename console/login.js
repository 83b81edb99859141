// The login form of the takd console (docs/console.md).  The password goes
// in an Authorization header, which a form of another site cannot send.
"use strict";
document.getElementById("login").addEventListener("submit", async (ev) => {
	ev.preventDefault();
	const st = document.getElementById("login-status");
	const user = document.getElementById("user").value;
	const pw = document.getElementById("password").value;
	st.textContent = "Checking…";
	const bytes = new TextEncoder().encode(user + ":" + pw);
	let bin = "";
	bytes.forEach((b) => { bin += String.fromCharCode(b); });
	try {
		const r = await fetch("/console/login", {
			method: "POST", credentials: "same-origin",
			headers: { "Authorization": "Basic " + btoa(bin) },
		});
		const j = await r.json().catch(() => ({}));
		if (r.ok) {
			st.textContent = "Logged in.";
			window.location.replace("/");
			return;
		}
		st.textContent = "Refused: " + (j.error || r.status);
	} catch (e) {
		st.textContent = "The server cannot be reached: " + e;
	}
});

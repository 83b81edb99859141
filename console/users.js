// The users view's changes (docs/console.md, "Users"): add a user, reset a
// password, change groups, delete.  Each asks for the admin's own
// password again: takd-usersd, not the page nor the api process, checks
// it against the users file.  Loaded after console.js (api, el, say,
// loadUsers); console.js calls userActions() for each row.
"use strict";

const userUi = { op: null, user: null, fields: null };

function userGroupsOf(u) {
	const pick = (f) => u.groups.filter(f).map((g) => g.name).join(",");
	return { groups: pick((g) => g.in && g.out), in: pick((g) => g.in && !g.out),
		out: pick((g) => !g.in && g.out) };
}

// The words and fields of each change.
const USER_OPS = {
	add: { title: (n) => "Add user " + n, button: "Add", done: "added" },
	passwd: { title: (n) => "Reset the password of " + n, button: "Reset password",
		text: "The user's enrolled devices keep their certificates; the new password is for the next enrollment or login." },
	groups: { title: (n) => "Change the groups of " + n, button: "Change groups",
		text: "Takes effect at once for the user's connected devices." },
	delete: { title: (n) => "Delete user " + n, button: "Delete",
		text: "The user's streaming sessions close at once; their certificates stay valid until revoked (Clients view)." },
};

function userDialog(op, u, fields) {
	const d = document.getElementById("user-dialog");
	const o = USER_OPS[op];
	userUi.op = op;
	userUi.user = u.name;
	userUi.fields = fields || {};
	document.getElementById("ud-title").textContent = o.title(u.name);
	document.getElementById("ud-text").textContent = o.text || "";
	const pw = document.getElementById("ud-password");
	document.getElementById("ud-password-row").hidden = op !== "passwd";
	pw.required = op === "passwd";
	pw.value = "";
	document.getElementById("ud-groups-row").hidden = op !== "groups";
	if (op === "groups") {
		const g = userGroupsOf(u);
		document.getElementById("ud-groups").value = g.groups;
		document.getElementById("ud-in").value = g.in;
		document.getElementById("ud-out").value = g.out;
	}
	document.getElementById("ud-admin").value = "";
	const c = document.getElementById("ud-confirm");
	c.textContent = o.button;
	c.className = op === "delete" ? "danger" : "";
	d.returnValue = "";
	d.showModal();
}

async function userSubmit() {
	const op = userUi.op, name = userUi.user;
	const f = Object.assign({ user: name,
		admin_password: document.getElementById("ud-admin").value }, userUi.fields);
	if (op === "passwd")
		f.password = document.getElementById("ud-password").value;
	if (op === "groups")
		for (const k of ["groups", "in", "out"])
			f[k] = document.getElementById("ud-" + k).value.replace(/\s*,\s*/g, ",").trim();
	document.getElementById("ud-admin").value = "";
	document.getElementById("ud-password").value = "";
	// The one moment the console knows this user's password: right after
	// the admin set it, the enrollment dialog can show the codes at once.
	const pw = (op === "add" || op === "passwd") ? f.password : "";
	say(USER_OPS[op].title(name) + ": working…");
	try {
		const j = await api("/console/api/users/" + op, { method: "POST",
			headers: { "Content-Type": "application/x-www-form-urlencoded" },
			body: new URLSearchParams(f).toString() });
		if (op === "add")
			document.getElementById("user-add").reset();
		await loadUsers();
		if (pw && typeof console_enroll_show === "function")
			await console_enroll_show(name, pw);
		say(j.message || (name + ": done."));
	} catch (e) {
		say(USER_OPS[op].title(name) + ": " + e.message, true);
	}
}

// The Actions cell of one row of the users table.
function userActions(u) {
	const td = el("td");
	if (u.role === "admin") {
		td.append(el("span", "takctl user only", { class: "muted" }));
		return td;
	}
	for (const [op, text, cls] of [["passwd", "Reset password…", "secondary"],
	    ["groups", "Groups…", "secondary"], ["delete", "Delete…", "danger"]]) {
		const b = el("button", text, { type: "button",
			"aria-label": USER_OPS[op].title(u.name) });
		b.className = cls + " user-" + op;
		b.dataset.user = u.name;
		b.addEventListener("click", () => userDialog(op, u));
		td.append(b, " ");
	}
	return td;
}

function userInit() {
	const form = document.getElementById("user-add");
	if (!form)
		return;
	form.addEventListener("submit", (ev) => {
		ev.preventDefault();
		const v = (id) => document.getElementById(id).value.replace(/\s*,\s*/g, ",").trim();
		userDialog("add", { name: v("ua-name"), groups: [] }, {
			password: document.getElementById("ua-password").value,
			groups: v("ua-groups"), in: v("ua-in"), out: v("ua-out") });
	});
	const d = document.getElementById("user-dialog");
	d.addEventListener("close", () => {
		if (d.returnValue === "ok")
			userSubmit();
		else if (userUi.fields)
			userUi.fields.password = "";
	});
}

document.addEventListener("DOMContentLoaded", userInit);

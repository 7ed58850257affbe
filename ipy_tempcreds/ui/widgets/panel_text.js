// Wording and formatting for the role panel (panel.js): pure functions and DOM helpers.
//
// Not a module of its own: ui/widgets/role_panel.py joins this file and panel.js into the one ES module
// anywidget loads, this one first.

// Colours of the lifetime bar. "warn" means: inside the last quarter or the last 10 minutes
// (botocore's mandatory refresh window); "danger": last tenth or last 3 minutes.
function levelOf(remainingS, lifetimeS) {
  if (remainingS <= 0) return "expired";
  if (remainingS < 180 || remainingS < lifetimeS * 0.1) return "danger";
  if (remainingS < 600 || remainingS < lifetimeS * 0.25) return "warn";
  return "ok";
}

// Same wording as the magics (base/times.py, format_remaining): "1h 2m 3s", "59m 58s", "42s".
function formatRemaining(seconds) {
  if (seconds < 0) return `expired ${formatRemaining(-seconds)} ago`;
  const total = Math.floor(seconds);
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = total % 60;
  if (h) return `${h}h ${m}m ${s}s`;
  if (m) return `${m}m ${s}s`;
  return `${s}s`;
}

// Times are shown in the zone the kernel names (TempCreds.time_zone, synced as time_zone), never
// the browser's, and worded as ui/display.py words them: "14:59 UTC", "2026-11-30 09:59 EST" on
// another day, "2026-11-29 14:59:07 UTC" in full. The zone's abbreviation at that moment comes from
// the kernel too (expires_zone), so both sides print the same letters.
const formatters = new Map();
function partsIn(zone, ms) {
  let format = formatters.get(zone);
  if (!format) {
    format = new Intl.DateTimeFormat("en-US", {
      timeZone: zone, hourCycle: "h23", year: "numeric", month: "2-digit", day: "2-digit",
      hour: "2-digit", minute: "2-digit", second: "2-digit",
    });
    formatters.set(zone, format);
  }
  const parts = {};
  for (const { type, value } of format.formatToParts(new Date(ms))) parts[type] = value;
  return parts;
}
function zoned(zone, label, ms) {
  try {
    return { parts: partsIn(zone || "UTC", ms), label: label || zone || "UTC", zone: zone || "UTC" };
  } catch (error) {
    // A zone this browser's Intl does not know: UTC, named, rather than a wrong time.
    return { parts: partsIn("UTC", ms), label: "UTC", zone: "UTC" };
  }
}
function clockText(zone, label, ms, nowMs) {
  const at = zoned(zone, label, ms);
  const { year, month, day, hour, minute } = at.parts;
  const today = partsIn(at.zone, nowMs);
  const sameDay = today.year === year && today.month === month && today.day === day;
  return `${sameDay ? "" : `${year}-${month}-${day} `}${hour}:${minute} ${at.label}`;
}
function momentText(zone, label, ms) {
  const { parts: p, label: named } = zoned(zone, label, ms);
  return `${p.year}-${p.month}-${p.day} ${p.hour}:${p.minute}:${p.second} ${named}`;
}

// "arn:aws:iam::123456789012:role/team/Reader" -> {name: "Reader", account: "123456789012"}.
function parseRoleArn(text) {
  const match = /^arn:[^:]+:iam::(\d{12}):role\/(?:.*\/)?([^/]+)$/.exec(text.trim());
  return match ? { account: match[1], name: match[2] } : null;
}

// Long ARNs wrap after ":" and "/" rather than anywhere, so each line stays readable.
function breakable(text) {
  const nodes = [];
  for (const piece of text.split(/(?<=[:/])/)) {
    nodes.push(document.createTextNode(piece), document.createElement("wbr"));
  }
  return nodes;
}

// "arn:aws:sts::123456789012:assumed-role/Reader/alice" -> Reader, "session alice".
function describeIdentity(arn) {
  const assumed = /^arn:[^:]+:sts::\d*:assumed-role\/([^/]+)\/(.+)$/.exec(arn);
  if (assumed) return { name: assumed[1], detail: `session ${assumed[2]}` };
  const resource = arn.split(":").slice(5).join(":");
  return { name: resource || arn, detail: "" };
}

function h(tag, className, props = {}) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  for (const [key, value] of Object.entries(props)) {
    if (key === "text") node.textContent = value;
    else if (key in node && typeof value !== "string") node[key] = value;
    else node.setAttribute(key, value);
  }
  return node;
}

// Writes only when the value differs: the clock redraws every second and must not disturb
// selection, focus or layout for nothing.
function setText(node, text) {
  if (node.textContent !== text) node.textContent = text;
}
function setAttr(node, name, value) {
  if (value === null || value === undefined || value === "") {
    if (node.hasAttribute(name)) node.removeAttribute(name);
  } else if (node.getAttribute(name) !== String(value)) {
    node.setAttribute(name, String(value));
  }
}

// The IAM Identity Center sign-in started by Sign in, drawn at the end of `extra`: the link to
// open and the user code while it waits, then its outcome. Both are shown to the person on
// purpose; no token ever reaches the browser. Redrawn only when it changed; true if it shows.
function drawSsoPrompt(extra, prompt) {
  prompt = prompt || {};
  let node = extra.querySelector(".tempcreds-sso-prompt");
  if (!node) extra.append(node = h("div", "tempcreds-sso-prompt"));
  const key = JSON.stringify(prompt);
  if (node.dataset.drawn === key) return Boolean(prompt.message);
  node.dataset.drawn = key;
  const parts = [];
  if (prompt.link) {
    parts.push(h("a", "tempcreds-sso-link", { href: prompt.link, target: "_blank", rel: "noopener noreferrer", text: "Open the sign-in page" }),
               document.createTextNode(" and check the code "), h("code", "tempcreds-sso-code", { text: prompt.code || "" }));
  } else if (prompt.message) {
    parts.push(h("span", "tempcreds-sso-message", { text: prompt.message }));
  }
  node.replaceChildren(...parts);
  setAttr(node, "data-state", prompt.state || "");
  return Boolean(prompt.message);
}

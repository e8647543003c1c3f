// The browser's first-party id, and the policy version its last choice was made under.
//
// Kept in the `privacyops_consent` cookie of the site that embeds the banner: the policy lists
// that cookie as essential ("Remembers your cookie choices so that we do not ask on every
// visit"). Where cookies are refused, localStorage keeps it; where both are, the banner asks on
// every page and nothing optional runs until the visitor answers.

const NAME = "privacyops_consent";
// The id format the consent API accepts (16 to 64 characters of the URL-safe alphabet).
const ID = /^[A-Za-z0-9_-]{16,64}$/;
const VERSION = /^[0-9]{1,9}$/;

/** A fresh random id: 18 bytes from the platform's CSPRNG, 24 URL-safe characters. */
export function newId() {
  const bytes = new Uint8Array(18);
  crypto.getRandomValues(bytes);
  let binary = "";
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_");
}

function readCookie() {
  try {
    for (const part of document.cookie.split(";")) {
      const at = part.indexOf("=");
      if (at > 0 && part.slice(0, at).trim() === NAME) return part.slice(at + 1).trim();
    }
  } catch {
    // A sandboxed frame without cookies: fall through to localStorage.
  }
  return null;
}

function readStorage() {
  try {
    return window.localStorage.getItem(NAME);
  } catch {
    return null;
  }
}

/** The stored id and choice version, or a new id when none is stored (or it is malformed). */
export function load() {
  const [id, version] = (readCookie() || readStorage() || "").split(".");
  if (id && ID.test(id)) {
    return { id, version: version && VERSION.test(version) ? Number(version) : null };
  }
  return { id: newId(), version: null };
}

/** Keep the id (and the choice version, once there is one) for `maxAge` seconds. */
export function save(stored, maxAge) {
  const value = stored.version === null ? stored.id : `${stored.id}.${stored.version}`;
  const secure = window.location.protocol === "https:" ? "; Secure" : "";
  try {
    document.cookie = `${NAME}=${value}; Max-Age=${maxAge}; Path=/; SameSite=Lax${secure}`;
  } catch {
    // cookies unavailable: localStorage below
  }
  if (readCookie() === value) return;
  try {
    window.localStorage.setItem(NAME, value);
  } catch {
    // Neither is available: the id lives as long as the page.
  }
}

/** True the first time `what` is asked about in this browsing session (sessionStorage). */
export function firstTimeThisVisit(what) {
  const key = `${NAME}_${what}`;
  try {
    if (window.sessionStorage.getItem(key)) return false;
    window.sessionStorage.setItem(key, "1");
  } catch {
    // No session storage: say it every time rather than never.
  }
  return true;
}

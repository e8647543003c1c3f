// Tags the site marks `<script type="text/plain" data-consent="CLASS">` are inert: the browser
// does not run a script of an unknown type. Once CLASS is allowed, a real script element with
// the same source (or text) is inserted after the marked one; changing the type of the marked
// element in place would not run it. Each marked tag runs at most once per page.

const MARKED = 'script[type="text/plain"][data-consent]';
// Attributes that belong to the inert tag only.
const SKIPPED = new Set(["type", "data-consent-type", "data-consent-activated"]);

function liveCopy(inert) {
  const live = document.createElement("script");
  for (const attribute of inert.attributes) {
    if (!SKIPPED.has(attribute.name)) live.setAttribute(attribute.name, attribute.value);
  }
  // `data-consent-type="module"` asks for a module once allowed.
  if (inert.dataset.consentType) live.type = inert.dataset.consentType;
  // A nonce is hidden from getAttribute once parsed; copy the property (sites with a CSP nonce).
  if (inert.nonce) live.nonce = inert.nonce;
  // Inserted scripts are async by default; keep the page's order unless the tag asked for async.
  if (!inert.hasAttribute("async")) live.async = false;
  if (!inert.hasAttribute("src")) live.text = inert.text;
  return live;
}

/** Run every marked tag whose class `allowed(cls)` says yes and that has not run yet. */
export function activate(allowed, root = document) {
  const ran = [];
  for (const inert of root.querySelectorAll(MARKED)) {
    if (inert.dataset.consentActivated || !allowed(inert.dataset.consent)) continue;
    inert.dataset.consentActivated = "true";
    inert.after(liveCopy(inert));
    ran.push(inert.dataset.consent);
  }
  return ran;
}

/** Also gate marked tags the page adds later (tag managers, single-page apps). */
export function watch(allowed) {
  const observer = new MutationObserver((changes) => {
    if (changes.some((change) => change.addedNodes.length)) activate(allowed);
  });
  observer.observe(document.documentElement, { childList: true, subtree: true });
  return observer;
}

// privacyops consent banner: the script a retailer adds to its pages.
//
//   <script src="https://privacy.example.com/consent/banner.js" data-state="CA"></script>
//   <script type="text/plain" data-consent="analytics" src="https://analytics.example/tag.js">
//   </script>
//   <a href="#" data-privacy-choices>Your Privacy Choices</a>   (optional)
//
// It shows the cookie classes of the policy in force, records the visitor's choice against a
// first-party browser id, runs the marked tags only for allowed classes, honours Global
// Privacy Control, and answers `__gpp` with the GPP string of the recorded choices.
// Nothing optional runs before the server has answered: on any failure the banner fails closed.

import { consentApi } from "./api.js";
import { startGpp } from "./gpp.js";
import * as storage from "./storage.js";
import { activate, watch } from "./tags.js";
import { buildBanner } from "./ui.js";

const STATE = /^[A-Z]{2}$/;

function scriptSettings(script) {
  const data = (script && script.dataset) || {};
  const source = script && script.src ? new URL(script.src, window.location.href) : null;
  return {
    // The API lives where the script came from, unless the site says otherwise.
    base: (data.api || (source ? source.origin : window.location.origin)).replace(/\/+$/, ""),
    // The visitor's state, when the site knows it: adds that state's GPP section.
    state: STATE.test(data.state || "") ? data.state : null,
  };
}

// GPC as the browser reports it (the GPC spec: exactly true means the signal is on).
function gpcSignal() {
  return navigator.globalPrivacyControl === true;
}

function whenReady() {
  if (document.readyState !== "loading") return Promise.resolve();
  return new Promise((resolve) => document.addEventListener("DOMContentLoaded", resolve, { once: true }));
}

async function start(settings, gpp) {
  const api = consentApi(settings.base);
  const config = await api.config();
  gpp.supported(config.gpp.supported_apis);
  const stored = storage.load();
  storage.save(stored, config.cookie_max_age);
  const gpc = gpcSignal();

  let state = await api.state(stored.id);
  if (gpc && !state.gpc_honoured) {
    // The browser says GPC but sent no header (or the server has no record yet): record it.
    state = await api.record({ browser_id: stored.id, choices: {}, gpc: true });
  }

  // Essential tags always run; optional ones once allowed; advertising never while the
  // browser sends GPC. (Once the signal is off, the visitor's later choice decides again.)
  const allowed = (cls) => {
    if (cls === "essential") return true;
    if (cls === "advertising" && gpc) return false;
    return state.choices[cls] === true;
  };

  await whenReady();
  const banner = buildBanner(config, {
    onShown: (visible) => gpp.shown(visible),
    onChoice: async (choices) => {
      state = await api.record({
        browser_id: stored.id,
        choices,
        gpc,
        wording: banner.wording(),
      });
      stored.version = config.policy_version;
      storage.save(stored, config.cookie_max_age);
      banner.show(state, gpc);
      activate(allowed);
      // The choice is saved; a failure to refresh the GPP string is the CMP API's error.
      await refreshGpp(true).catch(report);
    },
  });

  async function refreshGpp(userAction) {
    gpp.changing();
    gpp.update(await api.gpp(stored.id, settings.state), userAction);
  }

  document.body.prepend(banner.host);
  banner.show(state, gpc);
  activate(allowed);
  watch(allowed);
  // Ask again when no choice was made under the policy version in force; and tell the
  // visitor, once per visit, when the signal overrode an earlier yes (not silently).
  const conflict = gpc && state.conflicts.length > 0 && storage.firstTimeThisVisit("conflict");
  if (stored.version !== config.policy_version || conflict) banner.open(null);
  await refreshGpp(false);
}

const settings = scriptSettings(document.currentScript);
const gpp = startGpp();

function report(error) {
  gpp.failed(String(error && error.message ? error.message : error));
  console.warn("privacyops consent banner:", error);
}

start(settings, gpp).catch(report);

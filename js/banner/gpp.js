// `window.__gpp`, the IAB GPP CMP API (Core/CMP API Specification v1.1), answered by IAB's own
// @iabgpp/cmpapi: ping, addEventListener, removeEventListener, hasSection, getSection and
// getField. The GPP string itself comes from our server (GET /api/v1/consent/gpp), which
// encodes the browser's recorded choices; the CMP API only decodes and serves it.

import {
  CmpApi,
  CmpDisplayStatus,
  CmpStatus,
  EventStatus,
  SignalStatus,
} from "@iabgpp/cmpapi";

// Not a registered CMP: the specification says to use 1 (reference notes 4.5).
export const CMP_ID = 1;
// Our CMP's own version, an integer the API reports (bump when the banner changes behaviour).
export const CMP_VERSION = 1;

// CmpApi asks an existing `__gpp` for queued calls (IAB's stub keeps them); without a stub it
// would log an error, so a page without one gets an empty queue instead.
function ensureStub() {
  if (typeof window.__gpp !== "function") {
    window.__gpp = () => [];
  }
}

export function startGpp() {
  ensureStub();
  const cmp = new CmpApi(CMP_ID, CMP_VERSION);
  cmp.setCmpStatus(CmpStatus.LOADING);

  return {
    cmp,
    /** The banner became visible or hidden. */
    shown(visible) {
      cmp.setCmpDisplayStatus(visible ? CmpDisplayStatus.VISIBLE : CmpDisplayStatus.HIDDEN);
      if (visible) cmp.setEventStatus(EventStatus.CMP_UI_SHOWN);
    },
    supported(apis) {
      cmp.setSupportedAPIs(apis);
    },
    /** A change is coming: `signalStatus` is the first and last event of every change. */
    changing() {
      cmp.setSignalStatus(SignalStatus.NOT_READY);
    },
    /** The server's string for the browser's choices; listeners hear of each section. */
    update(answer, userAction) {
      const before = cmp.getGppString();
      cmp.setGppString(answer.gpp);
      cmp.setApplicableSections(answer.gpp_sid.length ? answer.gpp_sid : [-1]);
      if (userAction) cmp.setEventStatus(EventStatus.USER_ACTION_COMPLETE);
      if (cmp.getCmpStatus() !== CmpStatus.LOADED) cmp.setCmpStatus(CmpStatus.LOADED);
      if (before !== cmp.getGppString()) {
        for (const prefix of Object.keys(cmp.getObject())) cmp.fireSectionChange(prefix);
      }
      cmp.setSignalStatus(SignalStatus.READY);
    },
    failed(message) {
      cmp.setCmpStatus(CmpStatus.ERROR);
      cmp.fireErrorEvent(message);
    },
  };
}

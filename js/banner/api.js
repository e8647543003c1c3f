// The banner's calls to the consent API. No cookies go with them (`credentials: "omit"`): the
// browser is known by its first-party id alone, and the API allows the retailer's origins
// without credentials (CORS).

export function consentApi(base) {
  async function call(path, init = {}) {
    const response = await fetch(base + path, {
      credentials: "omit",
      ...init,
      headers: { Accept: "application/json", ...(init.headers || {}) },
    });
    if (!response.ok) throw new Error(`consent API ${path.split("?")[0]}: HTTP ${response.status}`);
    return response.json();
  }

  return {
    // The texts and cookie classes of the policy in force (cacheable).
    config: () => call("/api/v1/consent/banner-config"),
    // This browser's current choices; a Sec-GPC header on the request is recorded server-side.
    state: (browserId) =>
      call(`/api/v1/consent/browser/${encodeURIComponent(browserId)}`, { cache: "no-store" }),
    record: (body) =>
      call("/api/v1/consent/browser", {
        method: "POST",
        cache: "no-store",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify(body),
      }),
    gpp: (browserId, state) => {
      const query = new URLSearchParams({ browser_id: browserId });
      if (state) query.set("state", state);
      return call(`/api/v1/consent/gpp?${query}`, { cache: "no-store" });
    },
  };
}

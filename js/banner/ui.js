// The banner's markup: a labelled dialog with the policy's cookie classes, three buttons of
// equal weight (accept all, reject all, save: no choice is made easier or more visible than
// another, the CCPA regulations' symmetry in choice), and a "Your Privacy Choices" link that
// opens it again.
//
// It lives in a shadow root so that the site's style sheets cannot hide or restyle it, and it
// is styled through the CSSOM (element.style), which a Content-Security-Policy without
// 'unsafe-inline' still allows; every text is set with textContent, never parsed as HTML.

const INK = "#1c1f23";
const FOCUS = "3px solid #0b57a4";
const OPTIONAL = ["functional", "analytics", "advertising"];

function el(tag, style = {}, text = null) {
  const node = document.createElement(tag);
  Object.assign(node.style, style);
  if (text !== null) node.textContent = text;
  return node;
}

// A focus ring no site style can remove (the shadow root keeps site rules out; this keeps it
// visible even where the browser's default ring would be faint).
function focusRing(node) {
  node.addEventListener("focus", () => {
    node.style.setProperty("outline", FOCUS, "important");
    node.style.setProperty("outline-offset", "2px", "important");
  });
  node.addEventListener("blur", () => {
    node.style.removeProperty("outline");
    node.style.removeProperty("outline-offset");
  });
  return node;
}

// The three choice buttons look exactly alike.
function choiceButton(label, action) {
  const button = el(
    "button",
    {
      font: "inherit",
      fontWeight: "600",
      minHeight: "44px",
      minWidth: "10rem",
      padding: "0.5rem 1rem",
      color: INK,
      background: "#ffffff",
      border: `2px solid ${INK}`,
      borderRadius: "6px",
      cursor: "pointer",
    },
    label,
  );
  button.type = "button";
  button.dataset.action = action;
  return focusRing(button);
}

function cookieList(cls, texts) {
  const details = el("details", { margin: "0.25rem 0 0 1.9rem" });
  const summary = focusRing(
    el("summary", { cursor: "pointer" }, `${texts.cookies_in_class} (${cls.cookies.length})`),
  );
  const list = el("ul", { margin: "0.25rem 0", paddingLeft: "1.2rem" });
  for (const cookie of cls.cookies) {
    const party = cookie.first_party ? "" : `, ${texts.third_party}`;
    const item = el("li");
    item.append(
      el("code", {}, cookie.name),
      ` (${cookie.provider}, ${cookie.lifetime_text}${party}): ${cookie.purpose}`,
    );
    list.append(item);
  }
  details.append(summary, list);
  return details;
}

function classRow(cls, texts, gpc) {
  const row = el("div", { margin: "0 0 0.75rem" });
  const id = `privacyops-consent-${cls.class}`;
  const box = focusRing(el("input", { width: "1.2rem", height: "1.2rem", margin: "0 0.6rem 0 0" }));
  box.type = "checkbox";
  box.id = id;
  box.name = cls.class;
  // Refusing advertising cookies is also an opt-out of sale, sharing and targeted advertising:
  // said next to the box, and read out with it.
  const note = cls.class === "advertising" ? el("p", { margin: "0.15rem 0 0 1.9rem" }, texts.advertising_opt_out) : null;
  if (note) note.id = `${id}-opt-out`;
  box.setAttribute("aria-describedby", note ? `${id}-description ${note.id}` : `${id}-description`);
  const label = el("label", { fontWeight: "600" }, cls.label);
  label.htmlFor = id;
  const line = el("div", { display: "flex", alignItems: "center" });
  line.append(box, label);
  const description = el("p", { margin: "0.15rem 0 0 1.9rem" }, cls.description);
  description.id = `${id}-description`;
  // Essential cookies cannot be refused; advertising cannot be turned on while GPC is on.
  const locked = !cls.optional ? texts.always_on : gpc && cls.class === "advertising" ? texts.gpc_locked : null;
  if (locked) {
    box.disabled = true;
    box.checked = !cls.optional;
    line.append(el("span", { marginLeft: "0.5rem", fontStyle: "italic" }, `(${locked})`));
  }
  row.append(line, description);
  if (note) row.append(note);
  if (cls.cookies.length) row.append(cookieList(cls, texts));
  return { row, box };
}

/** Build the banner (hidden) and the link; `onChoice(choices)` records a choice. */
export function buildBanner(config, { onChoice, onShown }) {
  const { texts } = config;
  const host = el("div");
  host.id = "privacyops-consent";
  const root = host.attachShadow({ mode: "open" });

  const dialog = el("section", {
    position: "fixed",
    zIndex: "2147483647",
    left: "1rem",
    right: "1rem",
    bottom: "1rem",
    maxWidth: "44rem",
    maxHeight: "85vh",
    overflowY: "auto",
    margin: "0 auto",
    padding: "1rem 1.25rem",
    background: "#ffffff",
    color: INK,
    border: `2px solid ${INK}`,
    borderRadius: "8px",
    boxShadow: "0 4px 24px rgba(0,0,0,0.25)",
    font: "16px/1.5 system-ui, -apple-system, 'Segoe UI', Roboto, Arial, sans-serif",
    textAlign: "left",
  });
  dialog.hidden = true;
  dialog.setAttribute("role", "dialog");
  dialog.setAttribute("aria-labelledby", "privacyops-consent-title");
  dialog.setAttribute("aria-describedby", "privacyops-consent-statement");
  // In the tab order: on a small screen the dialog scrolls, and the keyboard scrolls it only
  // once it has focus (the statement has no control to tab to). Its focus ring shows where.
  dialog.tabIndex = 0;
  focusRing(dialog);

  const title = el("h2", { fontSize: "1.25rem", margin: "0 0 0.5rem" }, texts.title);
  title.id = "privacyops-consent-title";
  const statement = el("p", { margin: "0 0 0.75rem" }, config.statement);
  statement.id = "privacyops-consent-statement";
  // Filled in when a GPC signal was honoured; a live region so that it is announced.
  const signal = el("p", {
    margin: "0 0 0.75rem",
    padding: "0.5rem 0.75rem",
    background: "#e3f2e6",
    borderLeft: "4px solid #2e7d32",
  });
  signal.setAttribute("role", "status");
  signal.hidden = true;
  const conflict = el("p", {
    margin: "0 0 0.75rem",
    padding: "0.5rem 0.75rem",
    background: "#fff6d6",
    borderLeft: "4px solid #b38600",
  });
  conflict.hidden = true;
  const problem = el("p", { margin: "0 0 0.75rem", color: "#a4000f", fontWeight: "600" });
  problem.setAttribute("role", "alert");
  problem.hidden = true;

  const fieldset = el("fieldset", { border: "0", margin: "0 0 0.75rem", padding: "0" });
  fieldset.append(el("legend", { fontWeight: "700", padding: "0", marginBottom: "0.5rem" }, texts.classes_legend));
  const boxes = {};
  let gpcOn = false;
  function renderClasses() {
    fieldset.replaceChildren(fieldset.firstChild);
    for (const cls of config.classes) {
      const { row, box } = classRow(cls, texts, gpcOn);
      boxes[cls.class] = box;
      fieldset.append(row);
    }
  }
  renderClasses();

  // The buttons stay in view while the classes scroll (small screens): choosing never needs
  // a hunt, whichever way the visitor chooses.
  const buttons = el("div", {
    display: "flex",
    flexWrap: "wrap",
    gap: "0.75rem",
    position: "sticky",
    bottom: "-1rem",
    margin: "0 -1.25rem 0.75rem",
    padding: "0.75rem 1.25rem",
    background: "#ffffff",
    borderTop: "1px solid #d5d9de",
  });
  buttons.append(
    choiceButton(texts.reject_all, "reject"),
    choiceButton(texts.accept_all, "accept"),
    choiceButton(texts.save, "save"),
  );
  const footer = el("div", { display: "flex", flexWrap: "wrap", gap: "1rem", alignItems: "center" });
  const more = focusRing(el("a", { color: "#0b57a4" }, texts.more_choices));
  more.href = config.privacy_choices.url;
  const close = focusRing(
    el(
      "button",
      {
        font: "inherit",
        background: "transparent",
        color: INK,
        border: "0",
        textDecoration: "underline",
        cursor: "pointer",
        padding: "0.25rem",
      },
      texts.close,
    ),
  );
  close.type = "button";
  close.dataset.action = "close";
  footer.append(more, close);
  dialog.append(title, statement, signal, conflict, problem, fieldset, buttons, footer);

  // The "Your Privacy Choices" link: the site's own elements marked data-privacy-choices, or
  // a small floating link of ours when the site has none.
  const floating = el("div", {
    position: "fixed",
    zIndex: "2147483646",
    left: "0.75rem",
    bottom: "0.75rem",
    padding: "0.3rem 0.6rem",
    background: "#ffffff",
    border: `1px solid ${INK}`,
    borderRadius: "6px",
    font: "14px/1.4 system-ui, -apple-system, 'Segoe UI', Roboto, Arial, sans-serif",
    color: INK,
  });
  const link = focusRing(el("a", { color: "#0b57a4" }, config.privacy_choices.text));
  link.href = config.privacy_choices.url;
  // Whether the GPC signal was processed stays on screen (11 CCR 7025(c)(6)).
  const linkSignal = el("span", {});
  linkSignal.setAttribute("role", "status");
  const siteLinks = [...document.querySelectorAll("[data-privacy-choices]")];
  if (siteLinks.length) link.hidden = true;
  floating.append(link, linkSignal);
  floating.hidden = true;
  root.append(dialog, floating);

  let opener = null;
  // The floating box shows while the dialog is closed, if it has anything to show.
  function showFloating() {
    floating.hidden = !dialog.hidden || (link.hidden && !linkSignal.textContent);
  }

  function open(from) {
    opener = from || null;
    problem.hidden = true;
    dialog.hidden = false;
    showFloating();
    onShown(true);
    // Opened by the visitor: move focus in, so that the dialog's label is read out. Shown on
    // arrival: leave focus where it is; the banner is first in the page's tab order.
    if (from) dialog.focus();
  }

  function closeBanner() {
    dialog.hidden = true;
    showFloating();
    onShown(false);
    if (opener && opener.isConnected) opener.focus();
    opener = null;
  }

  function chosen(action) {
    const choices = {};
    for (const name of OPTIONAL) {
      if (!boxes[name]) continue;
      const allowed = action === "accept" ? true : action === "reject" ? false : boxes[name].checked;
      // GPC: advertising stays off whatever the button (the signal wins, 11 CCR 7025).
      choices[name] = allowed && !(gpcOn && name === "advertising");
    }
    return choices;
  }

  async function act(action) {
    if (action === "close") {
      closeBanner();
      return;
    }
    for (const button of buttons.children) button.disabled = true;
    try {
      await onChoice(chosen(action));
      closeBanner();
    } catch {
      problem.textContent = texts.save_failed;
      problem.hidden = false;
    } finally {
      for (const button of buttons.children) button.disabled = false;
    }
  }

  dialog.addEventListener("click", (event) => {
    const target = event.target.closest("button[data-action]");
    if (target && !target.disabled) act(target.dataset.action);
  });
  dialog.addEventListener("keydown", (event) => {
    if (event.key === "Escape") {
      event.preventDefault();
      closeBanner();
    }
  });
  for (const trigger of [link, ...siteLinks]) {
    trigger.addEventListener("click", (event) => {
      event.preventDefault();
      open(trigger);
    });
  }

  return {
    host,
    open,
    close: closeBanner,
    isOpen: () => !dialog.hidden,
    /** Show the server's view: the checkboxes, the GPC notice and any conflict. */
    show(state, gpc) {
      gpcOn = gpc;
      renderClasses();
      for (const name of OPTIONAL) {
        if (boxes[name] && !boxes[name].disabled) boxes[name].checked = state.choices[name] === true;
      }
      signal.hidden = !gpc;
      signal.textContent = gpc ? texts.gpc_honoured : "";
      linkSignal.textContent = gpc ? texts.gpc_short : "";
      linkSignal.style.marginLeft = link.hidden ? "0" : "0.5rem";
      showFloating();
      // A conflict is the signal overriding an earlier yes: worth saying while it is on.
      const names = gpc ? (state.conflicts || []).map((key) => config.purpose_names[key] || key) : [];
      conflict.hidden = names.length === 0;
      conflict.textContent = names.length ? texts.gpc_conflict.replace("{purposes}", names.join(", ")) : "";
    },
    /** The words the visitor was shown, kept as evidence with the choice. */
    wording() {
      const shown = [texts.title, config.statement];
      if (!signal.hidden) shown.push(signal.textContent);
      for (const cls of config.classes) {
        shown.push(`${cls.label}: ${cls.description}`);
        if (cls.class === "advertising") shown.push(texts.advertising_opt_out);
      }
      return shown.join("\n").slice(0, 5000);
    },
    showLink: showFloating,
  };
}

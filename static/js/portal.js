/*
 * Header navigation: progressive enhancement (disclosure pattern).
 * Without JS the nav is plain links. Changes only classes and attributes (strict CSP).
 */
(() => {
  "use strict";
  const root = document.documentElement;
  root.classList.replace("no-js", "js") || root.classList.add("js");

  const nav = document.querySelector(".app-global-nav");
  if (!nav) return;
  const menuButton = document.querySelector(".app-menu-button");
  let current = null; // the toggle whose submenu is open

  /** Open or close one submenu. */
  const setOpen = (toggle, open) => {
    const panel = document.getElementById(toggle.getAttribute("aria-controls"));
    if (!panel) return;
    toggle.setAttribute("aria-expanded", String(open));
    panel.hidden = !open;
    toggle.closest(".app-global-nav__item")?.toggleAttribute("data-open", open);
    if (open) current = toggle;
    else if (current === toggle) current = null;
  };

  /** Close the open submenu; optionally move focus back to its toggle. */
  const closeCurrent = (refocus) => {
    const toggle = current;
    if (!toggle) return false;
    setOpen(toggle, false);
    if (refocus) toggle.focus();
    return true;
  };

  for (const toggle of nav.querySelectorAll(".app-global-nav__toggle")) {
    toggle.hidden = false;
    toggle.addEventListener("click", () => {
      const open = toggle.getAttribute("aria-expanded") !== "true";
      if (current && current !== toggle) setOpen(current, false);
      setOpen(toggle, open);
    });
  }

  if (menuButton) {
    menuButton.hidden = false;
    menuButton.addEventListener("click", () => {
      const open = menuButton.getAttribute("aria-expanded") !== "true";
      menuButton.setAttribute("aria-expanded", String(open));
      nav.toggleAttribute("data-open", open);
      if (!open) closeCurrent(false);
    });
  }

  document.addEventListener("keydown", (event) => {
    if (event.key !== "Escape" || event.isComposing) return;
    const inside = nav.contains(document.activeElement) || document.activeElement === document.body;
    if (closeCurrent(inside)) return;
    if (menuButton && nav.hasAttribute("data-open") && nav.contains(document.activeElement)) {
      menuButton.click();
      menuButton.focus();
    }
  });

  // Focus leaving the nav, or a click/tap outside it, closes the open submenu.
  nav.addEventListener("focusout", (event) => {
    if (event.relatedTarget && !nav.contains(event.relatedTarget)) closeCurrent(false);
  });
  document.addEventListener("click", (event) => {
    if (current && !nav.contains(event.target)) closeCurrent(false);
  });
})();

/*
 * A dismissible notice (the members' password prompt, decision 0043): its button is shown only
 * with JS, and a dismissal is remembered in this browser (localStorage), so each colleague
 * sharing the account decides for themselves. Without JS, or with storage blocked, it stays.
 */
(() => {
  "use strict";
  for (const notice of document.querySelectorAll("[data-dismiss-key]")) {
    const key = notice.getAttribute("data-dismiss-key");
    const button = notice.querySelector("button[hidden]");
    let stored = null;
    try { stored = window.localStorage.getItem(key); } catch { /* storage blocked: keep showing */ }
    if (stored === "dismissed") { notice.hidden = true; continue; }
    if (!button) continue;
    button.hidden = false;
    button.addEventListener("click", () => {
      notice.hidden = true;
      try { window.localStorage.setItem(key, "dismissed"); } catch { /* shown again next time */ }
      document.getElementById("main-content")?.focus();
    });
  }
})();

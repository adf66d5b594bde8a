/*
 * The login's end, warned before it comes (JIS X 8341-3 / WCAG 2.2.1, decision 0066).
 * templates/accounts/includes/session_timeout.html gives the seconds left and every word shown.
 * SESSION_WARNING_SECONDS before the end the dialog opens (role="alertdialog", focus on
 * 「ログインを延長する」, back where it was afterwards); the button asks the server for a new full
 * session. Before warning, the server is asked how long is left (another tab may have extended
 * it). When the end has come, the dialog says so before anything is sent and lost.
 */
(() => {
  "use strict";
  const dialog = document.getElementById("session-timeout");
  if (!dialog || typeof dialog.showModal !== "function") return;
  const data = dialog.dataset;
  const title = document.getElementById("session-timeout-title");
  const text = document.getElementById("session-timeout-text");
  const form = dialog.querySelector("[data-session-extend]");
  const login = dialog.querySelector("[data-session-login]");
  const warnBefore = Number(data.warningSeconds) * 1000;
  let deadline = Date.now() + Number(data.secondsLeft) * 1000;
  let extensionsLeft = Number(data.extensionsLeft);
  let state = "quiet"; // quiet → checking → warned (or dismissed) → expired
  let returnTo = null;
  let timer = null;

  const minutes = () => String(Math.max(1, Math.ceil((deadline - Date.now()) / 60000)));

  const open = () => {
    if (dialog.open) return;
    returnTo = document.activeElement;
    dialog.showModal();
  };

  const close = () => {
    if (dialog.open) dialog.close();
  };

  dialog.addEventListener("close", () => {
    if (state === "warned") state = "dismissed";
    if (returnTo && typeof returnTo.focus === "function") returnTo.focus();
    returnTo = null;
  });

  const showWarning = () => {
    state = "warned";
    title.textContent = data.warningTitle;
    text.textContent = (extensionsLeft > 0 ? data.warningText : data.lastText).replace("{minutes}", minutes());
    form.hidden = extensionsLeft <= 0;
    login.hidden = true;
    open();
  };

  const showExpired = (message) => {
    state = "expired";
    title.textContent = data.expiredTitle;
    text.textContent = message || data.expiredText;
    form.hidden = true;
    login.hidden = false;
    if (dialog.open) login.querySelector("a").focus();
    else open();
  };

  /** The server's answer: a new deadline, or the end. */
  const update = (answer) => {
    deadline = Date.now() + Number(answer.seconds_left) * 1000;
    extensionsLeft = Number(answer.extensions_left);
  };

  const ask = (method) => {
    const options = { method, credentials: "same-origin", headers: { Accept: "application/json" } };
    if (method === "POST") options.body = new FormData(form);
    // A refusal that is not ours (a CSRF or proxy error page) reads as "no time left".
    return fetch(data.stateUrl, options).then((response) =>
      response
        .json()
        .catch(() => ({ seconds_left: 0, extensions_left: 0 }))
        .then((answer) => ({ ok: response.ok, status: response.status, answer })),
    );
  };

  const schedule = () => {
    clearTimeout(timer);
    if (state === "expired") return;
    const left = deadline - Date.now();
    if (left <= 0) {
      showExpired();
      return;
    }
    if (left <= warnBefore && state === "quiet") {
      state = "checking";
      ask("GET")
        .then(({ ok, answer }) => {
          if (!ok) return showExpired();
          update(answer);
          if (deadline - Date.now() > warnBefore) state = "quiet";
          else showWarning();
          return schedule();
        })
        .catch(() => {
          showWarning();
          schedule();
        });
      return;
    }
    // Wake at the next moment that matters, at most a minute from now (timers sleep in hidden tabs).
    const next = left > warnBefore ? left - warnBefore : left;
    timer = setTimeout(schedule, Math.min(Math.max(next, 250), 60000));
    if (state === "warned" && dialog.open) {
      text.textContent = (extensionsLeft > 0 ? data.warningText : data.lastText).replace("{minutes}", minutes());
    }
  };

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const button = form.querySelector("button");
    button.disabled = true;
    ask("POST")
      .then(({ ok, status, answer }) => {
        button.disabled = false;
        if (status === 403) return showExpired();
        if (!ok && status !== 409) {
          text.textContent = data.failedText; // a server error: the login may well still run
          return undefined;
        }
        update(answer);
        if (!ok) return showWarning(); // 409: no extension left
        state = "quiet";
        close();
        return schedule();
      })
      .catch(() => {
        button.disabled = false;
        text.textContent = data.failedText;
      });
  });

  dialog.querySelector("[data-session-close]").addEventListener("click", close);
  document.addEventListener("visibilitychange", () => document.visibilityState === "visible" && schedule());
  schedule();
})();

/* The grouping screen (templates/meetings/admin/grouping_screen.html, decision 0047), enhanced.
   Without this file the one move form posts and the whole screen comes back. With it, the form is
   sent with fetch; the answer holds only the parts the move changed (the two or more groups
   involved, the summary, the list of rule violations, the approval), which replace the same ids
   here without reloading the page. The move bar says which row is picked. */
(function () {
  "use strict";
  var form = document.getElementById("grouping-move");
  if (!form || !window.fetch || !window.DOMParser || !window.FormData) {
    return;
  }
  var picked = document.getElementById("grouping-move-picked");
  var status = document.getElementById("grouping-move-status");
  var hint = picked.textContent;

  function choice() {
    var names = [];
    Array.prototype.forEach.call(form.elements, function (el) {
      if (el.type === "radio" && el.checked) {
        var what = el.closest("label").querySelector(".w-sr-only").textContent.trim();
        var heading = el.closest("section").querySelector("h2").textContent.trim();
        names.push((el.name === "participant" ? "" : "団体 ") + what + "（" + heading + "）");
      }
    });
    return names.length ? "選択中：" + names.join("、") : hint;
  }

  function say(text, error) {
    status.textContent = text;
    status.classList.toggle("grouping-move__status--error", Boolean(error));
  }

  document.addEventListener("change", function (event) {
    if (event.target.getAttribute && event.target.getAttribute("form") === "grouping-move") {
      picked.textContent = choice();
    }
  });

  form.addEventListener("submit", function (event) {
    var button = event.submitter || null;
    var action = (button && button.getAttribute("formaction")) || form.getAttribute("action");
    event.preventDefault();
    if (form.getAttribute("aria-busy") === "true") {
      return;
    }
    form.setAttribute("aria-busy", "true");
    say("移動しています…", false);
    fetch(action, {
      method: "POST",
      body: new FormData(form),
      credentials: "same-origin",
      headers: { "X-Grouping-Partial": "1" },
    })
      .then(function (response) {
        return response.text().then(function (text) {
          return { ok: response.ok, text: text };
        });
      })
      .then(function (answer) {
        var doc = new DOMParser().parseFromString(answer.text, "text/html");
        var message = doc.querySelector("[data-grouping-message]");
        if (!message) {
          say("移動できませんでした。画面を読み込み直してください（ログインの期限が切れた可能性があります）。", true);
          return;
        }
        doc.querySelectorAll("[data-grouping-part]").forEach(function (part) {
          var old = part.id && document.getElementById(part.id);
          if (old) {
            old.replaceWith(document.importNode(part, true));
          }
        });
        picked.textContent = choice();
        say(message.textContent, message.getAttribute("data-grouping-message") === "error");
      })
      .catch(function () {
        say("通信できませんでした。ネットワークを確認して、もう一度お試しください。", true);
      })
      .finally(function () {
        form.removeAttribute("aria-busy");
      });
  });
})();

/*
 * Live character count under textareas with data-max-chars. Its words come from the HTML
 * (data-count-text, with {n} and {max}), as every text of the site does.
 * Counts what people see as characters (Intl.Segmenter graphemes), as the server does;
 * the server's check is the one that counts: without JS the form works the same.
 */
(() => {
  "use strict";
  const segmenter = typeof Intl !== "undefined" && Intl.Segmenter ? new Intl.Segmenter("ja", { granularity: "grapheme" }) : null;
  const count = (text) => (segmenter ? [...segmenter.segment(text.trim())].length : [...text.trim()].length);
  for (const area of document.querySelectorAll("textarea[data-max-chars]")) {
    const max = Number(area.dataset.maxChars);
    const text = area.dataset.countText || "{n} / {max}";
    const out = document.createElement("p");
    out.className = "app-tips-count";
    out.id = `${area.id}-count`;
    out.setAttribute("aria-live", "polite");
    area.after(out);
    const described = (area.getAttribute("aria-describedby") || "").split(" ").filter(Boolean);
    area.setAttribute("aria-describedby", [...described, out.id].join(" "));
    let timer = null;
    const update = () => {
      const n = count(area.value);
      out.textContent = text.replace("{n}", String(n)).replace("{max}", String(max));
      out.dataset.over = String(n > max);
    };
    area.addEventListener("input", () => { clearTimeout(timer); timer = setTimeout(update, 300); });
    update();
  }
})();

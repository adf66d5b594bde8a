/*
 * Live character count under textareas with data-max-chars (小ネタ, 意見箱).
 * Counts what people see as characters (Intl.Segmenter graphemes), as the server does;
 * the server's check is the one that counts: without JS the form works the same.
 */
(() => {
  "use strict";
  const segmenter = typeof Intl !== "undefined" && Intl.Segmenter ? new Intl.Segmenter("ja", { granularity: "grapheme" }) : null;
  const count = (text) => (segmenter ? [...segmenter.segment(text.trim())].length : [...text.trim()].length);
  for (const area of document.querySelectorAll("textarea[data-max-chars]")) {
    const max = Number(area.dataset.maxChars);
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
      out.textContent = `${n}／${max}文字`;
      out.dataset.over = String(n > max);
    };
    area.addEventListener("input", () => { clearTimeout(timer); timer = setTimeout(update, 300); });
    update();
  }
})();

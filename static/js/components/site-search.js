/*
 * Site search for the static export: runs entirely in the browser, also from file://.
 * The index (window.KOKASEN_SEARCH_INDEX) is a script written by the exporter.
 * normalize() and the matching rules mirror kokasen/pages/textsearch.py exactly
 * (a test compares the two): NFKC, lower case, white space collapsed; every query
 * term must occur; title hits weigh 10, summary hits 3, other hits 1.
 */
(() => {
  "use strict";

  const TITLE_WEIGHT = 10;
  const SUMMARY_WEIGHT = 3;
  const MAX_TERMS = 8;
  const MAX_RESULTS = 50;

  const normalize = (text) => text.normalize("NFKC").toLowerCase().replace(/\s+/gu, " ").trim();

  const queryTerms = (query) => [...new Set(normalize(query).split(" ").filter(Boolean))].slice(0, MAX_TERMS);

  const count = (haystack, needle) => {
    let hits = 0;
    let at = haystack.indexOf(needle);
    while (at !== -1) {
      hits += 1;
      at = haystack.indexOf(needle, at + needle.length);
    }
    return hits;
  };

  const score = (entry, terms) => {
    if (terms.length === 0) return 0;
    const title = normalize(entry.t);
    const summary = normalize(entry.s);
    let total = 0;
    for (const term of terms) {
      const hits = count(entry.x, term);
      if (hits === 0) return 0;
      total += hits + TITLE_WEIGHT * count(title, term) + SUMMARY_WEIGHT * count(summary, term);
    }
    return total;
  };

  const search = (entries, query) =>
    entries
      .map((entry, index) => ({ entry, index, score: score(entry, queryTerms(query)) }))
      .filter((hit) => hit.score > 0)
      .sort((a, b) => b.score - a.score || a.index - b.index)
      .slice(0, MAX_RESULTS)
      .map((hit) => hit.entry);

  const element = (tag, className, text) => {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text;
    return node;
  };

  const render = (container, query, hits) => {
    container.replaceChildren();
    // The words come from the HTML (data-count-text, data-empty-text), as every text of the site does.
    const words = container.dataset;
    const status = element("p", "app-search-results__count",
      (words.countText || "{query}: {count}").replace(/\{(query|count)\}/g, (_, key) => (key === "query" ? query : String(hits.length))));
    status.setAttribute("role", "status");
    container.append(status);
    if (hits.length === 0) {
      container.append(element("p", "", words.emptyText || ""));
      return;
    }
    const list = element("ol", "app-search-results__list");
    for (const hit of hits) {
      const item = element("li", "app-search-results__item");
      const title = element("p", "app-search-results__title");
      const link = element("a", "", hit.t);
      link.href = hit.u;
      title.append(link);
      item.append(title);
      if (hit.s) item.append(element("p", "app-search-results__snippet", hit.s));
      list.append(item);
    }
    container.append(list);
  };

  const start = () => {
    const container = document.querySelector("[data-search-results]");
    const input = document.getElementById("search-query");
    if (!container || !Array.isArray(window.KOKASEN_SEARCH_INDEX)) return;
    const query = (new URLSearchParams(window.location.search).get("q") || "").trim().slice(0, 100);
    if (input && query) input.value = query;
    if (query) render(container, query, search(window.KOKASEN_SEARCH_INDEX, query));
  };

  window.kokasenSearch = { normalize, queryTerms, search };
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();

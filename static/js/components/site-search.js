/*
 * Site search for the static export: runs entirely in the browser, also from file://.
 * The index (window.KOKASEN_SEARCH_INDEX) is a script written by the exporter.
 * normalize() and the matching rules mirror kokasen/pages/textsearch.py exactly
 * (a test compares the two): NFKC, lower case, white space collapsed; every query
 * term must occur; title hits weigh 10, summary hits 3, other hits 1.
 * An entry is {u: URL, t: title, s: summary, x: summary and body as written}. The results show
 * the text as written with each match in <mark>: fold(), highlight() and excerpt() mirror
 * textsearch.fold/highlight/excerpt (the same test compares them).
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

  // The normalised text of an entry (title and original text), made once per entry.
  const folded = new WeakMap();
  const normalizedText = (entry) => {
    if (!folded.has(entry)) folded.set(entry, normalize(`${entry.t} ${entry.x}`));
    return folded.get(entry);
  };

  const score = (entry, terms) => {
    if (terms.length === 0) return 0;
    const title = normalize(entry.t);
    const summary = normalize(entry.s);
    const text = normalizedText(entry);
    let total = 0;
    for (const term of terms) {
      const hits = count(text, term);
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

  // ---------------------------------------------------------------- highlighting
  // Text is handled as an array of code points, so that positions match Python's.
  const isMark = (char) => /^\p{M}/u.test(char.normalize("NFKC") || char);
  const isSpace = (char) => /^\s$/u.test(char);

  const fold = (chars) => {
    let text = "";
    const starts = [];
    const ends = [];
    let i = 0;
    while (i < chars.length) {
      let j = i + 1;
      let piece;
      if (isSpace(chars[i])) {
        while (j < chars.length && isSpace(chars[j])) j += 1;
        piece = " ";
      } else {
        while (j < chars.length && isMark(chars[j])) j += 1;
        piece = chars.slice(i, j).join("").normalize("NFKC").toLowerCase();
      }
      for (const unit of Array.from(piece)) {
        text += unit;
        starts.push(i);
        ends.push(j);
      }
      i = j;
    }
    return { text: Array.from(text), starts, ends };
  };

  const indexOf = (haystack, needle, from) => {
    outer: for (let at = from; at + needle.length <= haystack.length; at += 1) {
      for (let k = 0; k < needle.length; k += 1) if (haystack[at + k] !== needle[k]) continue outer;
      return at;
    }
    return -1;
  };

  const spans = (chars, terms) => {
    const { text, starts, ends } = fold(chars);
    const found = [];
    for (const term of terms) {
      const needle = Array.from(term);
      let at = indexOf(text, needle, 0);
      while (at >= 0) {
        found.push([starts[at], ends[at + needle.length - 1]]);
        at = indexOf(text, needle, at + needle.length);
      }
    }
    found.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
    const merged = [];
    for (const [start, end] of found) {
      const last = merged[merged.length - 1];
      if (last && start <= last[1]) last[1] = Math.max(end, last[1]);
      else merged.push([start, end]);
    }
    return merged;
  };

  // [[text, isMatch], ...]: the text as written, the matches of the terms marked.
  const highlightChars = (chars, terms) => {
    const parts = [];
    let at = 0;
    for (const [start, end] of spans(chars, terms)) {
      if (start > at) parts.push([chars.slice(at, start).join(""), false]);
      parts.push([chars.slice(start, end).join(""), true]);
      at = end;
    }
    if (at < chars.length || parts.length === 0) parts.push([chars.slice(at).join(""), false]);
    return parts;
  };

  const highlight = (text, terms) => highlightChars(Array.from(text), terms);

  const excerpt = (entry, query, width = 60) => {
    const terms = queryTerms(query);
    const chars = Array.from(entry.x || "");
    const found = chars.length ? spans(chars, terms) : [];
    if (found.length === 0) return entry.s ? highlightChars(Array.from(entry.s).slice(0, width * 2), terms) : [];
    const start = Math.max(0, found[0][0] - Math.floor(width / 2));
    const end = start + width * 2;
    const parts = highlightChars(chars.slice(start, end), terms);
    if (start > 0) parts.unshift(["…", false]);
    if (end < chars.length) parts.push(["…", false]);
    return parts;
  };

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
    const terms = queryTerms(query);
    const marked = (parent, parts) => {
      for (const [text, match] of parts) {
        parent.append(match ? element("mark", "app-search-results__mark", text) : document.createTextNode(text));
      }
      return parent;
    };
    const list = element("ol", "app-search-results__list");
    for (const hit of hits) {
      const item = element("li", "app-search-results__item");
      const title = element("p", "app-search-results__title");
      const link = element("a", "");
      link.href = hit.u;
      link.append(marked(element("span", ""), highlight(hit.t, terms)));
      title.append(link);
      item.append(title);
      const snippet = excerpt(hit, query);
      if (snippet.length > 0) item.append(marked(element("p", "app-search-results__snippet"), snippet));
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

  window.kokasenSearch = { normalize, queryTerms, search, fold: (text) => fold(Array.from(text)), highlight, excerpt };
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();

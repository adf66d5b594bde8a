/*
 * Loaded in <head> without defer (an external file: the CSP forbids inline scripts), so that
 * html.js is set before the first paint: the CSS then draws the JS layout at once (the phone
 * menu collapsed, the menu button and drop-down toggles shown) instead of the full menu being
 * painted and then collapsed by portal.js (a layout shift of 0.5 on phones).
 */
document.documentElement.classList.replace("no-js", "js");

// The compat lint of `make lint` for the site's CSS (decision 0045): every feature used must be
// supported by the browsers of .browserslistrc (REQUIREMENTS D2), per caniuse-lite's data.
import browserslist from "browserslist";
import { dirname } from "node:path";
import { fileURLToPath } from "node:url";

const browsers = browserslist.loadConfig({ path: dirname(fileURLToPath(import.meta.url)) });

export default {
  plugins: ["stylelint-no-unsupported-browser-features"],
  rules: {
    "plugin/no-unsupported-browser-features": [
      true,
      { browsers, severity: "error" },
    ],
  },
};

// The compat lint of `make lint` for the site's JavaScript (decision 0045): every web API used must
// be supported by the browsers of .browserslistrc (REQUIREMENTS D2), per the data eslint-plugin-compat
// ships (MDN browser-compat-data and caniuse-lite).
import browserslist from "browserslist";
import compat from "eslint-plugin-compat";
import { dirname } from "node:path";
import { fileURLToPath } from "node:url";

const browsers = browserslist.loadConfig({ path: dirname(fileURLToPath(import.meta.url)) });

export default [
  {
    ...compat.configs["flat/recommended"],
    files: ["**/*.js"],
    languageOptions: {
      ecmaVersion: "latest",
      sourceType: "script",
      globals: { window: "readonly", document: "readonly" },
    },
    settings: { browsers },
  },
];

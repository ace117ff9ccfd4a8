// Runs migrations/deploy.ts the way `anchor migrate` does, for machines without the Anchor CLI
// (the real-validator suite uses it): compiles the script with tsc, builds an AnchorProvider
// from ANCHOR_PROVIDER_URL and ANCHOR_WALLET (AnchorProvider.env(), as Anchor's generated
// runner does) and calls the script's exported function with it.
//   ANCHOR_PROVIDER_URL=http://127.0.0.1:8899 ANCHOR_WALLET=authority.json node migrate.cjs
"use strict";
const fs = require("fs");
const path = require("path");
const { execFileSync } = require("child_process");
const anchor = require("@anchor-lang/core");

const dist = path.join(__dirname, "dist");
execFileSync(
  process.execPath,
  [require.resolve("typescript/bin/tsc"), "-p", path.join(__dirname, "tsconfig.migrate.json")],
  { stdio: "inherit" },
);
// package.json says "type": "module"; the compiled script is CommonJS.
fs.writeFileSync(path.join(dist, "package.json"), '{"type": "commonjs"}\n');
const deploy = require(path.join(dist, "migrations", "deploy.js"));

const provider = anchor.AnchorProvider.env();
deploy(provider).then(
  () => process.exit(0),
  (err) => {
    console.error(`migrate: ${err && err.message ? err.message : err}`);
    process.exit(1);
  },
);

// Re-encodes idl/fixtures.json with the official Anchor TS client (BorshCoder on the committed
// IDL) and fails unless every instruction's data and every event's bytes match what the Rust
// program crate produced. Run: `npm ci && node check-idl.mjs` in clients/ts (CI does).
import { readFileSync } from "node:fs";
import anchor from "@anchor-lang/core";
import web3 from "@solana/web3.js";

const { BorshCoder, BN } = anchor;
const { PublicKey } = web3;

const root = new URL("../../", import.meta.url);
const idl = JSON.parse(readFileSync(new URL("idl/toss_intent_processor.json", root)));
const fixtures = JSON.parse(readFileSync(new URL("idl/fixtures.json", root)));
const coder = new BorshCoder(idl);

// Fixture values are strings for u64/i64 and base58 for public keys; turn them into client types.
const typed = (v) => {
  if (Array.isArray(v)) return v.map(typed);
  if (v && typeof v === "object") return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, typed(x)]));
  if (typeof v === "string" && /^[0-9]+$/.test(v)) return new BN(v);
  if (typeof v === "string" && v.length >= 32 && v.length <= 44) return new PublicKey(v);
  return v;
};
const plain = (v) => {
  if (v instanceof BN) return v.toString();
  if (v instanceof PublicKey) return v.toBase58();
  if (Array.isArray(v)) return v.map(plain);
  if (v && typeof v === "object") {
    const keys = Object.keys(v);
    if (keys.length === 1 && typeof v[keys[0]] === "object" && Object.keys(v[keys[0]]).length === 0) {
      return keys[0][0].toUpperCase() + keys[0].slice(1); // unit enum variant
    }
    return Object.fromEntries(keys.map((k) => [k, plain(v[k])]));
  }
  return v;
};

let failures = 0;
for (const { name, args, data } of fixtures.instructions) {
  const encoded = Buffer.from(coder.instruction.encode(name, typed(args))).toString("hex");
  if (encoded !== data) {
    failures++;
    console.error(`instruction ${name}: TS ${encoded} != Rust ${data}`);
  } else {
    console.log(`ok instruction ${name}`);
  }
}
for (const { name, fields, data } of fixtures.events) {
  const decoded = coder.events.decode(Buffer.from(data, "hex").toString("base64"));
  const got = decoded && { name: decoded.name, fields: plain(decoded.data) };
  const want = { name, fields };
  if (!got || got.name !== name || JSON.stringify(got.fields, Object.keys(got.fields).sort()) !== JSON.stringify(fields, Object.keys(fields).sort())) {
    failures++;
    console.error(`event ${name}: TS decoded ${JSON.stringify(got)} != ${JSON.stringify(want)}`);
  } else {
    console.log(`ok event ${name}`);
  }
}
// The methods API (what migrations/deploy.ts uses) builds the same config_initialize bytes
// from camelCase arguments, offline.
{
  const wallet = { publicKey: new PublicKey(new Uint8Array(32).fill(5)), signTransaction: async (t) => t, signAllTransactions: async (t) => t };
  const provider = new anchor.AnchorProvider(new web3.Connection("http://127.0.0.1:1"), wallet, {});
  const program = new anchor.Program(idl, provider);
  const [config] = PublicKey.findProgramAddressSync([Buffer.from("config")], program.programId);
  const fx = fixtures.instructions.find((i) => i.name === "config_initialize");
  const a = fx.args.args;
  const ix = await program.methods
    .configInitialize({
      admin: new PublicKey(a.admin),
      maxIntentLifetimeSecs: new BN(a.max_intent_lifetime_secs),
      maxRelayerFee: new BN(a.max_relayer_fee),
      withdrawalDelaySecs: new BN(a.withdrawal_delay_secs),
      paused: a.paused,
      withdrawalWindowSecs: new BN(a.withdrawal_window_secs),
    })
    .accountsPartial({ authority: wallet.publicKey, config, programData: config, systemProgram: web3.SystemProgram.programId })
    .instruction();
  const hex = Buffer.from(ix.data).toString("hex");
  if (hex !== fx.data || !ix.programId.equals(new PublicKey(idl.address))) {
    failures++;
    console.error(`methods.configInitialize: ${hex} != ${fx.data}`);
  } else {
    console.log("ok methods.configInitialize (deploy.ts path)");
  }
}

if (failures) {
  console.error(`${failures} mismatch(es) between the committed IDL and the program`);
  process.exit(1);
}
console.log(`${fixtures.instructions.length + fixtures.events.length + 1} passed, 0 failed`);

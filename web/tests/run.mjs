// Drives web/index.html in Debian's headless Chromium (`make web-test`): the demo proof is VALID
// with the CLI's labels; tampered, truncated, garbage and attack files are INVALID with the CLI's
// own reasons; bundles verify and spliced manifests do not; a trapped instance is replaced; no
// request leaves the page. Fixtures are made here with the release CLI (target/release/glassbox).
//
//   node run.mjs                 the tests; closes with "N passed, M failed"
//   node run.mjs --bench         also prints the demo proof's verify time (median of 25)
//   node run.mjs --screenshots   also writes web/screenshots/{valid,invalid}.png
import { chromium } from "playwright-core";
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import http from "node:http";
import os from "node:os";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
const web = path.resolve(here, "..");
const root = path.resolve(web, "..");
const cli = path.join(root, "target/release/glassbox");
const attacks = path.join(root, "crates/cli/tests/attacks");
const args = new Set(process.argv.slice(2));
const VERIFY_BUDGET_MS = 30;

let firstMs = null;
let passed = 0;
let failed = 0;
function check(name, ok, detail) {
  if (ok) {
    passed += 1;
    console.log(`ok    ${name}`);
  } else {
    failed += 1;
    console.log(`FAIL  ${name}${detail ? ": " + detail : ""}`);
  }
}

// ---- fixtures, made with the release CLI ----
function glassbox(...a) {
  const r = spawnSync(cli, a, { cwd: root, encoding: "utf8", maxBuffer: 64 << 20 });
  if (r.error) throw r.error;
  return r;
}
function glassboxJson(...a) {
  const r = glassbox(...a, "--json");
  try {
    return JSON.parse(r.stdout.trim().split("\n").pop());
  } catch {
    throw new Error(`glassbox ${a.join(" ")} failed (${r.status}): ${r.stderr}`);
  }
}
if (!fs.existsSync(cli)) throw new Error(`${cli} is missing: cargo build --release -p glassbox-cli`);
const fx = fs.mkdtempSync(path.join(os.tmpdir(), "glassbox-web-"));
const F = (name) => path.join(fx, name);
const compiled = glassboxJson(
  "compile", "fixtures/mlp_64_128_64_10.onnx", "--calibrate", "fixtures/digits_calib.json", "-o", F("digits.gbm"),
);
const digest = compiled.digest;
const inputs16 = path.join(root, "crates/cli/assets/digits_16.json");
glassboxJson("prove", F("digits.gbm"), "--input", inputs16, "-o", F("demo.gbp"));
glassboxJson("prove", F("digits.gbm"), "--input", inputs16, "-o", F("day.gbp"), "--max-per-proof", "6");
// another batch (the same samples reversed), for a foreign proof and for inputs that differ
const raw16 = JSON.parse(fs.readFileSync(inputs16, "utf8"));
fs.writeFileSync(F("other.json"), JSON.stringify({ input_data: [...raw16.input_data].reverse() }));
glassboxJson("prove", F("digits.gbm"), "--input", F("other.json"), "-o", F("other.gbp"), "--max-per-proof", "6");
const demo = fs.readFileSync(F("demo.gbp"));
const flipped = Buffer.from(demo);
flipped[Math.floor(flipped.length / 2)] ^= 0x01;
fs.writeFileSync(F("flipped.gbp"), flipped);
fs.writeFileSync(F("truncated.gbp"), demo.subarray(0, demo.length - 100));
let seed = 12345;
const garbage = Buffer.alloc(4096, 0).map(() => ((seed = (seed * 1103515245 + 12345) >>> 0) >>> 16) & 0xff);
fs.writeFileSync(F("garbage.gbp"), garbage);
fs.writeFileSync(F("big.gbp"), Buffer.alloc(9 << 20, 7));
const manifest = JSON.parse(fs.readFileSync(F("day.bundle.json"), "utf8"));
const splice = (name, proofs) =>
  fs.writeFileSync(F(name), JSON.stringify({ ...manifest, proofs }, null, 2));
const [p0, p1, p2] = manifest.proofs;
splice("foreign.bundle.json", [p0, { ...p1, file: "other.1.gbp" }, p2]);
splice("duplicated.bundle.json", [p0, p1, p1]);
splice("reordered.bundle.json", [p0, p2, p1]);
splice("missing.bundle.json", [p0, p1]);
fs.writeFileSync(F("lying-total.bundle.json"), JSON.stringify({ ...manifest, samples: 15 }));
const wrongDigest = (digest[0] === "0" ? "1" : "0") + digest.slice(1);
const dayFiles = ["day.gbp", "day.1.gbp", "day.2.gbp"].map(F);

// ---- the browser ----
const userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), "glassbox-chromium-"));
const context = await chromium.launchPersistentContext(userDataDir, {
  executablePath: "/usr/bin/chromium",
  headless: true,
  args: [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
  ],
  viewport: { width: 900, height: 1000 },
});
const requests = [];
const pageErrors = [];
context.on("request", (r) => requests.push(r.url()));
const page = context.pages()[0] || (await context.newPage());
page.on("pageerror", (e) => pageErrors.push(String(e)));
page.on("console", (m) => {
  if (m.type() === "error") pageErrors.push("console: " + m.text());
});

async function open(url) {
  await page.goto(url);
  await page.waitForFunction(() => document.body.dataset.ready === "true", null, { timeout: 30000 });
}

// Chooses files, fills the form, presses Verify and returns what the page shows.
async function verifyInPage({ files, digest: d = "", inputs = null, minBits = "100" }) {
  await page.evaluate(() => {
    window.glassboxPage.last = null;
  });
  await page.fill("#digest", d);
  await page.selectOption("#minbits", minBits);
  await page.setInputFiles("#inputs", inputs ? [inputs] : []);
  await page.setInputFiles("#files", files);
  await page.click("#verify");
  await page.waitForFunction(() => window.glassboxPage.last !== null, null, { timeout: 30000 });
  return page.evaluate(() => ({
    last: window.glassboxPage.last,
    verdict: document.getElementById("result").dataset.verdict,
    text: document.getElementById("result").innerText,
  }));
}

function cliVerify(file, d, ...extra) {
  return glassboxJson("verify", file, "--digest", d, ...extra);
}
const same = (a, b) => JSON.stringify(a) === JSON.stringify(b);

const pageUrl = pathToFileURL(path.join(web, "index.html")).href;
await open(pageUrl);
{
  const w = await page.evaluate(() => Glassbox.warmup());
  check("the warm-up proof (web/warmup.js) is VALID (else: make web-warmup)", w && w.valid === true, w && w.error);
}

// 1. the demo proof
{
  const cliClaim = cliVerify(F("demo.gbp"), digest);
  const r = await verifyInPage({ files: [F("demo.gbp")], digest });
  check("demo proof is VALID", r.verdict === "valid" && /VALID/.test(r.text) && !/INVALID/.test(r.text), r.last.error);
  check("demo labels are the CLI's", same(r.last.labels, cliClaim.labels), `${r.last.labels} vs ${cliClaim.labels}`);
  check(
    "demo outputs, input hashes and security are the CLI's",
    same(r.last.outputs, cliClaim.outputs) &&
      same(r.last.inputs_hashes, cliClaim.inputs_hashes) &&
      r.last.security_bits === cliClaim.security_bits &&
      same(r.last.bundle, cliClaim.bundle),
  );
  check("demo labels start 2, 8, 2, 6, 6, 7, 1, 9", same(r.last.labels.slice(0, 8), [2, 8, 2, 6, 6, 7, 1, 9]));
  check(
    "the page shows labels, security and time",
    r.text.includes("102 bits") && /verified in/.test(r.text) && page.locator("#samples tbody tr").count().then
      ? (await page.locator("#samples tbody tr").count()) === 16
      : false,
  );
  firstMs = r.last.verify_ms;
  check("demo's first check after load within " + VERIFY_BUDGET_MS + " ms", r.last.verify_ms <= VERIFY_BUDGET_MS, `${r.last.verify_ms} ms`);
  if (args.has("--screenshots")) {
    fs.mkdirSync(path.join(web, "screenshots"), { recursive: true });
    await page.evaluate(() => document.getElementById("verify").scrollIntoView());
    await page.screenshot({ path: path.join(web, "screenshots/valid.png") });
  }
}

// 2. auditor's inputs
{
  const r = await verifyInPage({ files: [F("demo.gbp")], digest, inputs: inputs16 });
  check("demo proof with the auditor's inputs is VALID and says they match", r.verdict === "valid" && r.last.inputs_match === true && /match/.test(r.text), r.last.error);
  const other = await verifyInPage({ files: [F("demo.gbp")], digest, inputs: F("other.json") });
  const cli = cliVerify(F("demo.gbp"), digest, "--inputs", F("other.json"));
  check("other inputs are INVALID with the CLI's reason", other.verdict === "invalid" && other.last.error === cli.error, `${other.last.error} | ${cli.error}`);
}

// 3. every way a single proof is wrong: INVALID, with the same reason as the CLI
const single = [
  ["one byte flipped", F("flipped.gbp"), digest],
  ["wrong digest", F("demo.gbp"), wrongDigest],
  ["truncated file", F("truncated.gbp"), digest],
  ["garbage file", F("garbage.gbp"), digest],
  ["file over 8 MiB", F("big.gbp"), digest],
  ...["forged-102.gbp", "forged-128.gbp", "honest.gbp", "honest.1.gbp"].map((f) => [`attacks/${f}`, path.join(attacks, f), digest]),
];
let invalidShot = false;
for (const [name, file, d] of single) {
  const r = await verifyInPage({ files: [file], digest: d });
  const cli = cliVerify(file, d);
  const reasonShown = typeof r.last.error === "string" && r.last.error.length > 0 && r.text.includes("Reason: " + r.last.error);
  check(`${name} is INVALID with a reason`, r.verdict === "invalid" && /INVALID/.test(r.text) && reasonShown, JSON.stringify(r.last.error));
  check(`${name}: the reason is the CLI's`, cli.valid === false && r.last.error === cli.error, `${r.last.error} | ${cli.error}`);
  if (!invalidShot && name === "one byte flipped" && args.has("--screenshots")) {
    await page.evaluate(() => document.getElementById("verify").scrollIntoView());
    await page.screenshot({ path: path.join(web, "screenshots/invalid.png") });
    invalidShot = true;
  }
}
{
  const r = await verifyInPage({ files: [F("demo.gbp")], digest, minBits: "128" });
  check("a 102-bit proof is INVALID at minimum 128 bits", r.verdict === "invalid" && /128/.test(r.last.error), r.last.error);
  const e = await verifyInPage({ files: [F("demo.gbp")], digest: "not-a-digest" });
  check("a malformed digest is NOT VERIFIED, never VALID", e.verdict === "error" && /NOT VERIFIED/.test(e.text), e.last.error);
}

// 4. bundles: the manifest with its files (digest pasted, or taken from the manifest)
{
  const cliBundle = cliVerify(F("day.bundle.json"), digest);
  const r = await verifyInPage({ files: [F("day.bundle.json"), ...dayFiles], digest });
  check("bundle is VALID", r.verdict === "valid" && r.last.samples === 16 && r.last.proofs.length === 3, r.last.error);
  check(
    "bundle labels are the CLI's",
    same(r.last.proofs.map((p) => p.labels), cliBundle.proofs.map((p) => p.labels)) && r.last.bundle_id === cliBundle.bundle_id,
  );
  const m = await verifyInPage({ files: [F("day.bundle.json"), ...dayFiles] });
  check("bundle with the manifest's digest is VALID and says where the digest came from", m.verdict === "valid" && /taken from the manifest/.test(m.text));
  const w = await verifyInPage({ files: [F("day.bundle.json"), ...dayFiles], digest: wrongDigest });
  check("bundle against another digest is INVALID", w.verdict === "invalid", w.last.error);
  const withInputs = await verifyInPage({ files: [F("day.bundle.json"), ...dayFiles], digest, inputs: inputs16 });
  check("bundle with the auditor's inputs is VALID", withInputs.verdict === "valid" && withInputs.last.inputs_match === true, withInputs.last.error);
  const chunk = await verifyInPage({ files: [F("day.1.gbp")], digest });
  check("one chunk alone is VALID and says it proves only its samples", chunk.verdict === "valid" && /chunk 1 of 3/.test(chunk.text) && /only its own samples/.test(chunk.text));
}
const spliced = [
  ["foreign proof spliced in", F("foreign.bundle.json"), [...dayFiles, F("other.1.gbp")], /foreign proof/],
  ["duplicated proof", F("duplicated.bundle.json"), dayFiles, /duplicated proof/],
  ["reordered proofs", F("reordered.bundle.json"), dayFiles, /reordered proofs/],
  ["missing proof", F("missing.bundle.json"), dayFiles, /missing proof/],
  ["manifest total that lies", F("lying-total.bundle.json"), dayFiles, /sample count mismatch/],
  ["a listed file not chosen", F("day.bundle.json"), dayFiles.slice(0, 2), /not among the chosen files/],
  ["attacks/spliced.bundle.json", path.join(attacks, "spliced.bundle.json"), ["honest.gbp", "honest.1.gbp"].map((f) => path.join(attacks, f)), /./],
  ["attacks/honest.bundle.json (old format)", path.join(attacks, "honest.bundle.json"), ["honest.gbp", "honest.1.gbp"].map((f) => path.join(attacks, f)), /./],
];
for (const [name, man, files, why] of spliced) {
  const r = await verifyInPage({ files: [man, ...files], digest });
  check(`${name}: bundle INVALID`, r.verdict === "invalid" && why.test(r.last.error) && r.text.includes("Reason: "), r.last.error);
  if (!name.startsWith("a listed file")) {
    const cli = cliVerify(man, digest);
    check(`${name}: the reason is the CLI's`, r.last.error === cli.error, `${r.last.error} | ${cli.error}`);
  }
}

// 5. a trap (a panic on wasm) is a rejection, and the next proof runs in a fresh instance
{
  const t = await page.evaluate(() => Glassbox.trapForTests());
  const restarts = await page.evaluate(() => Glassbox.restarts());
  check("a panic in the verifier is reported as a rejection", t.valid === false && t.trapped === true && /trap/.test(t.error), JSON.stringify(t));
  check("the trapped instance was replaced", restarts === 1, `${restarts}`);
  const r = await verifyInPage({ files: [F("demo.gbp")], digest });
  check("after the trap, the demo proof is VALID again", r.verdict === "valid", r.last.error);
}

// 6. keyboard only: Tab to the digest, type it, Enter submits
{
  await page.evaluate(() => {
    window.glassboxPage.last = null;
  });
  await page.setInputFiles("#files", [F("demo.gbp")]);
  await page.fill("#digest", "");
  await page.focus("#files");
  await page.keyboard.press("Tab");
  const focused = await page.evaluate(() => document.activeElement && document.activeElement.id);
  await page.keyboard.type(digest);
  await page.keyboard.press("Enter");
  await page.waitForFunction(() => window.glassboxPage.last !== null);
  const verdict = await page.evaluate(() => document.getElementById("result").dataset.verdict);
  check("keyboard: Tab reaches the digest and Enter verifies", focused === "digest" && verdict === "valid", `${focused} ${verdict}`);
}

// 6b. a file dropped on the drop zone is verified at once
{
  await page.evaluate(() => {
    window.glassboxPage.last = null;
  });
  await page.fill("#digest", digest);
  await page.evaluate((bytes) => {
    const dt = new DataTransfer();
    dt.items.add(new File([new Uint8Array(bytes)], "dropped.gbp"));
    const ev = new DragEvent("drop", { dataTransfer: dt, bubbles: true, cancelable: true });
    document.getElementById("drop").dispatchEvent(ev);
  }, [...demo]);
  await page.waitForFunction(() => window.glassboxPage.last !== null);
  const last = await page.evaluate(() => window.glassboxPage.last);
  check("a dropped proof is verified (VALID)", last.valid === true && last.file === "dropped.gbp", last.error);
}

// 7. a phone: nothing wider than the screen
{
  await page.setViewportSize({ width: 390, height: 844 });
  await verifyInPage({ files: [F("demo.gbp")], digest });
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  check("readable on a 390 px phone (no horizontal scroll)", overflow <= 0, `${overflow} px too wide`);
  if (args.has("--screenshots")) {
    await page.screenshot({ path: path.join(web, "screenshots/phone.png"), fullPage: false });
  }
  await page.setViewportSize({ width: 900, height: 1000 });
}

// 8. the verify time of the demo proof, after load (median of 25 runs inside the page)
let median = null;
{
  const times = await page.evaluate(async (bytes) => {
    const b = new Uint8Array(bytes);
    const d = document.getElementById("digest").value;
    const out = [];
    for (let i = 0; i < 25; i++) {
      const t0 = performance.now();
      const r = await Glassbox.verify(b, d, 100);
      out.push([r.verify_ms, performance.now() - t0, r.valid]);
    }
    return out;
  }, [...demo]);
  const inner = times.map((t) => t[0]).sort((a, b) => a - b);
  const outer = times.map((t) => t[1]).sort((a, b) => a - b);
  median = inner[12];
  check(`demo proof verifies in <= ${VERIFY_BUDGET_MS} ms (median of 25)`, times.every((t) => t[2]) && median <= VERIFY_BUDGET_MS, `${median} ms`);
  if (args.has("--bench")) {
    console.log(`browser verify: demo proof (16 samples, ${(demo.length / 1024).toFixed(1)} KB) first check after load ${firstMs.toFixed(2)} ms; then median ${median.toFixed(2)} ms, min ${inner[0].toFixed(2)} ms, max ${inner[24].toFixed(2)} ms; with the JS call ${outer[12].toFixed(2)} ms (25 runs, headless Chromium)`);
  }
}

// 9. from a static host: a local server, the same page
{
  const server = http.createServer((req, res) => {
    const url = new URL(req.url, "http://127.0.0.1");
    const file = path.normalize(path.join(web, decodeURIComponent(url.pathname === "/" ? "/index.html" : url.pathname)));
    if (!file.startsWith(web + path.sep) || file.includes(`${path.sep}tests${path.sep}`) || !fs.existsSync(file)) {
      res.writeHead(404);
      res.end();
      return;
    }
    const types = { ".html": "text/html", ".js": "text/javascript", ".css": "text/css", ".wasm": "application/wasm" };
    res.writeHead(200, { "content-type": types[path.extname(file)] || "application/octet-stream" });
    res.end(fs.readFileSync(file));
  });
  await new Promise((ok) => server.listen(0, "127.0.0.1", ok));
  const origin = `http://127.0.0.1:${server.address().port}`;
  await open(origin + "/index.html");
  const r = await verifyInPage({ files: [F("demo.gbp")], digest });
  check("served from a static host, the demo proof is VALID", r.verdict === "valid", r.last.error);
  server.close();
  const foreign = requests.filter((u) => !(u.startsWith(pathToFileURL(web).href + "/") || u.startsWith(origin + "/")));
  check("no request leaves the page (only the page's own files)", requests.length > 0 && foreign.length === 0, foreign.join(", "));
}

check("nothing thrown uncaught, no console error", pageErrors.length === 0, pageErrors.join(" | "));
await context.close();
fs.rmSync(userDataDir, { recursive: true, force: true });
fs.rmSync(fx, { recursive: true, force: true });
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
